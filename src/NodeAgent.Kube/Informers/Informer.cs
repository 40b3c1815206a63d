using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kube.Informers;

/// <summary>
/// An informer for one resource type (client-go's reflector + store + processor): lists in pages, then watches
/// from the list's resourceVersion with bookmarks; a watch that ends is reopened from the last version seen, a 410
/// (Gone/Expired) forces a relist whose differences become add/update/delete notifications, failures back off
/// exponentially with jitter. The cache is ready after the first list (<see cref="ReadyAsync"/>). Handlers get every
/// change in order on one dispatch task, so a slow handler delays only its own notifications.
/// </summary>
public sealed partial class Informer<T, TList> : IAsyncDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : class, IItems<T>, IMetadata<V1ListMeta>
{
    private readonly ResourceClient<T, TList> _client;
    private readonly InformerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly List<IInformerHandler<T>> _handlers = [];
    private readonly Channel<Notification> _notifications = Channel.CreateUnbounded<Notification>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _applyLock = new();
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _run;
    private Task? _dispatch;
    private ITimer? _resync;
    private string _resourceVersion = "";

    public Informer(ResourceClient<T, TList> client, InformerOptions? options = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _client = client;
        _options = options ?? new InformerOptions();
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The local cache, filled by the informer.</summary>
    public InformerCache<T> Cache { get; } = new();

    /// <summary>The resourceVersion the cache is current to (from the last list, event or bookmark).</summary>
    public string LastSyncResourceVersion
    {
        get { lock (_applyLock) { return _resourceVersion; } }
    }

    /// <summary>How many times the informer has listed (the first list included).</summary>
    public int ListCount { get; private set; }

    private string Kind => _client.Resource.Plural;

    public Informer<T, TList> AddIndexer(string name, Func<T, IEnumerable<string>> index)
    {
        EnsureNotStarted();
        Cache.AddIndexer(name, index);
        return this;
    }

    public Informer<T, TList> AddHandler(IInformerHandler<T> handler)
    {
        EnsureNotStarted();
        _handlers.Add(handler);
        return this;
    }

    public void Start()
    {
        EnsureNotStarted();
        _dispatch = Task.Run(DispatchAsync);
        _run = Task.Run(() => RunAsync(_stop.Token));
        if (_options.ResyncPeriod is { } period)
        {
            _resync = _time.CreateTimer(_ => Resync(), null, period, period);
        }
    }

    /// <summary>Completes once the first list is in the cache (and its add notifications queued).</summary>
    public Task ReadyAsync(CancellationToken cancellationToken = default) => _ready.Task.WaitAsync(cancellationToken);

    /// <summary>Waits until <paramref name="condition"/> holds, checking it after every change the informer applies.</summary>
    public async Task WaitForAsync(Func<InformerCache<T>, bool> condition, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_applyLock)
            {
                if (condition(Cache))
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void EnsureNotStarted()
    {
        if (_run is not null)
        {
            throw new InvalidOperationException("the informer has already started");
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var needList = true;
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (needList)
                {
                    await ListAsync(ct).ConfigureAwait(false);
                    needList = false;
                }
                var started = _time.GetTimestamp();
                var sawEvents = await WatchAsync(ct).ConfigureAwait(false);
                if (sawEvents)
                {
                    failures = 0;
                }
                else if (_time.GetElapsedTime(started) < TimeSpan.FromSeconds(1))
                {
                    // A watch the server ends at once, empty, is a failure (client-go's "very short watch"): back off.
                    failures++;
                    await Task.Delay(Backoff(failures), _time, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ApiException e) when (e.IsGone)
            {
                LogRelist(_logger, Kind, e.Message);
                needList = true;
            }
            catch (GoneException e)
            {
                LogRelist(_logger, Kind, e.Message);
                needList = true;
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Any failure (network, server error, a malformed object) costs a backoff, never the informer.
                failures++;
                var delay = Backoff(failures);
                LogFailure(_logger, Kind, needList ? "list" : "watch", delay.TotalMilliseconds, e.Message);
                try
                {
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var ms = Math.Min(_options.MaxBackoff.TotalMilliseconds, _options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private async Task ListAsync(CancellationToken ct)
    {
        var items = new List<T>();
        string? cont = null;
        string rv;
        do
        {
            var page = await _client.ListAsync(_options.Namespace, new ListOptions
            {
                LabelSelector = _options.LabelSelector,
                FieldSelector = _options.FieldSelector,
                Limit = _options.PageSize,
                Continue = cont,
            }, ct).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                if (item?.Metadata is null || string.IsNullOrEmpty(item.Metadata.Name))
                {
                    throw new System.Text.Json.JsonException($"list {Kind}: an item without metadata.name");
                }
                items.Add(item);
            }
            cont = page.Metadata?.ContinueProperty;
            rv = page.Metadata?.ResourceVersion ?? "";
        }
        while (!string.IsNullOrEmpty(cont));
        Replace(items, rv);
        ListCount++;
        _ready.TrySetResult();
    }

    /// <summary>Makes the cache equal the list, notifying the differences.</summary>
    private void Replace(List<T> items, string rv)
    {
        lock (_applyLock)
        {
            var listed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var obj in items)
            {
                listed.Add(InformerCache<T>.KeyOf(obj));
                var existing = Cache.Get(obj.Metadata.NamespaceProperty, obj.Metadata.Name);
                if (existing is not null && existing.Metadata.ResourceVersion == obj.Metadata.ResourceVersion)
                {
                    continue;
                }
                var old = Cache.Upsert(obj);
                Notify(old is null ? new Notification(NotificationKind.Add, null, obj) : new Notification(NotificationKind.Update, old, obj));
            }
            foreach (var key in Cache.Keys().Where(k => !listed.Contains(k)))
            {
                if (Cache.Remove(key) is { } gone)
                {
                    Notify(new Notification(NotificationKind.Delete, null, gone));
                }
            }
            _resourceVersion = rv;
            SignalChanged();
        }
    }

    /// <summary>Watches until the stream ends; returns whether anything arrived. Throws <see cref="GoneException"/> on a 410 inside the stream.</summary>
    private async Task<bool> WatchAsync(CancellationToken ct)
    {
        var timeout = (int)(_options.MinWatchTimeout.TotalSeconds * (1 + Random.Shared.NextDouble()));
        var any = false;
        await foreach (var e in _client.WatchAsync(_options.Namespace, new ListOptions
        {
            LabelSelector = _options.LabelSelector,
            FieldSelector = _options.FieldSelector,
            ResourceVersion = LastSyncResourceVersion,
            AllowWatchBookmarks = true,
            TimeoutSeconds = Math.Max(1, timeout),
        }, ct).ConfigureAwait(false))
        {
            any = true;
            if (e.Type == WatchEventType.Error)
            {
                if (e.Status?.Code == 410 || e.Status?.Reason is "Expired" or "Gone")
                {
                    throw new GoneException($"watch {Kind}: {e.Status?.Message}");
                }
                throw new ApiException(HttpMethod.Get, _client.Resource.CollectionPath(_options.Namespace), (System.Net.HttpStatusCode)(e.Status?.Code ?? 500), e.Status, null);
            }
            Apply(e);
        }
        return any;
    }

    private void Apply(WatchEvent<T> e)
    {
        lock (_applyLock)
        {
            var rv = e.Object?.Metadata?.ResourceVersion;
            switch (e.Type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                {
                    var existing = Cache.Get(e.Object!.Metadata.NamespaceProperty, e.Object.Metadata.Name);
                    if (existing?.Metadata.ResourceVersion == rv)
                    {
                        break;
                    }
                    var old = Cache.Upsert(e.Object);
                    Notify(old is null ? new Notification(NotificationKind.Add, null, e.Object) : new Notification(NotificationKind.Update, old, e.Object));
                    break;
                }
                case WatchEventType.Deleted:
                    if (Cache.Remove(InformerCache<T>.KeyOf(e.Object!)) is { } gone)
                    {
                        Notify(new Notification(NotificationKind.Delete, null, e.Object ?? gone));
                    }
                    break;
            }
            if (!string.IsNullOrEmpty(rv))
            {
                _resourceVersion = rv;
            }
            SignalChanged();
        }
    }

    private void Resync()
    {
        lock (_applyLock)
        {
            foreach (var obj in Cache.List())
            {
                Notify(new Notification(NotificationKind.Update, obj, obj));
            }
        }
    }

    private void SignalChanged()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private void Notify(Notification n)
    {
        if (_handlers.Count > 0)
        {
            _notifications.Writer.TryWrite(n);
        }
    }

    private async Task DispatchAsync()
    {
        await foreach (var n in _notifications.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            foreach (var handler in _handlers)
            {
                try
                {
                    switch (n.Kind)
                    {
                        case NotificationKind.Add: handler.OnAdd(n.New); break;
                        case NotificationKind.Update: handler.OnUpdate(n.Old!, n.New); break;
                        case NotificationKind.Delete: handler.OnDelete(n.New); break;
                    }
                }
                catch (Exception e)
                {
                    // One handler's bug must not stop the others or the informer.
                    LogHandlerFailed(_logger, Kind, n.Kind.ToString(), e);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_resync is not null)
        {
            await _resync.DisposeAsync().ConfigureAwait(false);
        }
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }
        _notifications.Writer.TryComplete();
        if (_dispatch is not null)
        {
            await _dispatch.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    private enum NotificationKind
    {
        Add,
        Update,
        Delete,
    }

    private sealed record Notification(NotificationKind Kind, T? Old, T New);

    private sealed class GoneException(string message) : Exception(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "informer {Kind}: relisting: {Reason}")]
    private static partial void LogRelist(ILogger logger, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "informer {Kind}: {Operation} failed, retrying in {DelayMs} ms: {Error}")]
    private static partial void LogFailure(ILogger logger, string kind, string operation, double delayMs, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "informer {Kind}: a {Notification} handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, string kind, string notification, Exception exception);
}
