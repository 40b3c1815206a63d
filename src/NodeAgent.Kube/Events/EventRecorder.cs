using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kube.Events;

/// <summary>
/// kubelet's event recorder (client-go tools/record): core/v1 Events with <c>source.component</c>/<c>host</c> and the
/// involved object (with <c>fieldPath</c> such as <c>spec.containers{name}</c>), correlated (spam filter,
/// aggregation, count/firstTimestamp/lastTimestamp), written by one background task from a bounded queue: recording
/// never blocks, and when the API server is unreachable the oldest unsent events are dropped, as client-go's
/// broadcaster drops on a full queue. A write is tried a few times (client-go: 12 tries, 10 s apart).
/// With <c>series</c> on, events also carry the events.k8s.io semantics mapped onto core/v1 (as the API server
/// converts them): <c>eventTime</c> and <c>action</c> on create, and on every repeat <c>series</c>
/// (<c>count</c> ≥ 2, <c>lastObservedTime</c> to the microsecond) beside the deprecated count/lastTimestamp.
/// </summary>
public sealed partial class EventRecorder : IAsyncDisposable
{
    private readonly ResourceClient<Corev1Event, Corev1EventList> _events;
    private readonly string _component;
    private readonly string _host;
    private readonly EventCorrelator _correlator;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<Corev1Event> _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private readonly int _attempts;
    private readonly TimeSpan _retryInterval;
    private readonly bool _series;
    private long _dropped;

    public EventRecorder(ResourceClient<Corev1Event, Corev1EventList> events, string component, string host, ILogger? logger = null,
        TimeProvider? time = null, int capacity = 1000, int attempts = 12, TimeSpan? retryInterval = null, bool series = false)
    {
        _series = series;
        _events = events;
        _component = component;
        _host = host;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _correlator = new EventCorrelator(_time);
        _attempts = attempts;
        _retryInterval = retryInterval ?? TimeSpan.FromSeconds(10);
        _queue = Channel.CreateBounded<Corev1Event>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
        _writer = Task.Run(WriteLoopAsync);
    }

    /// <summary>Events dropped because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The involved-object reference kubelet uses for a pod (optionally one of its containers).</summary>
    public static V1ObjectReference PodReference(V1Pod pod, string? container = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Name = pod.Metadata.Name,
        NamespaceProperty = pod.Metadata.NamespaceProperty,
        Uid = pod.Metadata.Uid,
        ResourceVersion = pod.Metadata.ResourceVersion,
        FieldPath = container is null ? null : $"spec.containers{{{container}}}",
    };

    /// <summary>kubelet's node reference: UID is the node name, and the event lands in "default".</summary>
    public static V1ObjectReference NodeReference(string nodeName) => new() { Kind = "Node", Name = nodeName, Uid = nodeName };

    /// <summary>Records an event; returns at once. <paramref name="type"/> is Normal or Warning.</summary>
    public void Event(V1ObjectReference involved, string type, string reason, string message)
    {
        if (type is not ("Normal" or "Warning"))
        {
            throw new ArgumentException($"event type \"{type}\" is neither Normal nor Warning", nameof(type));
        }
        var now = _time.GetUtcNow();
        var ns = string.IsNullOrEmpty(involved.NamespaceProperty) ? "default" : involved.NamespaceProperty;
        var e = new Corev1Event
        {
            ApiVersion = "v1",
            Kind = "Event",
            Metadata = new V1ObjectMeta
            {
                Name = $"{involved.Name}.{(now.ToUnixTimeMilliseconds() * 1_000_000 + Random.Shared.Next(1_000_000)).ToString("x", CultureInfo.InvariantCulture)}",
                NamespaceProperty = ns,
            },
            InvolvedObject = involved,
            Type = type,
            Reason = reason,
            Message = message.Length > 1024 ? message[..1024] : message,
            Source = new V1EventSource { Component = _component, Host = _host },
            ReportingComponent = _component,
            ReportingInstance = _host,
        };
        if (_series)
        {
            e.EventTime = now.UtcDateTime;
            e.Action = reason;
        }
        _queue.Writer.TryWrite(e);
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var e in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                var decision = _correlator.Correlate(e);
                if (decision.Drop)
                {
                    continue;
                }
                if (_series && decision.ExistingName is not null)
                {
                    e.Series = new Corev1EventSeries { Count = e.Count, LastObservedTime = _time.GetUtcNow().UtcDateTime };
                }
                try
                {
                    await WriteAsync(decision).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One event that cannot be written (e.g. an unreadable answer) must not stop the writer.
                    LogEventLost(_logger, e.Reason, e.InvolvedObject?.Name ?? "", 1, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private async Task WriteAsync(EventCorrelator.Decision decision)
    {
        var e = decision.Event;
        for (var attempt = 1; attempt <= _attempts; attempt++)
        {
            try
            {
                if (decision.ExistingName is { } name)
                {
                    var patch = new JsonObject
                    {
                        ["count"] = e.Count,
                        ["lastTimestamp"] = e.LastTimestamp?.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                        ["message"] = e.Message,
                    };
                    if (e.Series is { } series)
                    {
                        patch["series"] = new JsonObject
                        {
                            ["count"] = series.Count,
                            ["lastObservedTime"] = series.LastObservedTime?.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
                        };
                    }
                    try
                    {
                        await _events.PatchAsync(e.Metadata.NamespaceProperty, name, PatchType.StrategicMerge, patch.ToJsonString(), null, _stop.Token).ConfigureAwait(false);
                        return;
                    }
                    catch (ApiException ex) when (ex.IsNotFound)
                    {
                        // The event expired on the server (1 h TTL): create it afresh, as client-go does.
                        _correlator.Forget(e);
                        e.Metadata.ResourceVersion = null;
                        decision = decision with { ExistingName = null };
                    }
                }
                await _events.CreateAsync(e, _stop.Token).ConfigureAwait(false);
                return;
            }
            catch (ApiException ex) when (ex.IsAlreadyExists || (int)ex.StatusCode is 400 or 403 or 404 or 422)
            {
                // The server refused this event for good (invalid, forbidden, namespace gone): retrying cannot help.
                LogEventRefused(_logger, e.Reason, e.InvolvedObject.Name, ex.Message);
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or ApiException or IOException)
            {
                if (attempt == _attempts)
                {
                    LogEventLost(_logger, e.Reason, e.InvolvedObject.Name, attempt, ex.Message);
                    return;
                }
                await Task.Delay(_retryInterval * (0.9 + Random.Shared.NextDouble() * 0.2), _time, _stop.Token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops the writer; events still queued are not sent.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        await _writer.ConfigureAwait(false);
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "event {Reason} for {Involved} refused by the API server: {Error}")]
    private static partial void LogEventRefused(ILogger logger, string reason, string involved, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "event {Reason} for {Involved} lost after {Attempts} attempts: {Error}")]
    private static partial void LogEventLost(ILogger logger, string reason, string involved, int attempts, string error);
}
