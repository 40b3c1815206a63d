using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Informers;

namespace NodeAgent.Proxy;

/// <summary>
/// The proxy's loop (kube-proxy's Proxier front): informer handlers feed the change trackers, which only record; a
/// <see cref="BoundedFrequencyRunner"/> paces syncs, none before the first lists of services and EndpointSlices are
/// both in; each sync takes a <see cref="ProxyState"/> snapshot and hands it to the <see cref="IProxyBackend"/>,
/// fully after a failure or when the last full sync is one sync period old, partially otherwise.
/// </summary>
public sealed partial class ServiceProxy : IInformerHandler<V1Service>, IInformerHandler<V1EndpointSlice>, IAsyncDisposable
{
    private readonly IProxyBackend _backend;
    private readonly ProxyOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ServiceChangeTracker _services;
    private readonly EndpointsChangeTracker _endpoints;
    private readonly Dictionary<ServicePortName, ServicePort> _serviceMap = [];
    private readonly Dictionary<ServicePortName, IReadOnlyList<Endpoint>> _endpointsMap = [];
    private readonly BoundedFrequencyRunner _runner;
    private readonly SemaphoreSlim _syncLock = new(1, 1);
    private volatile bool _servicesSynced, _endpointsSynced, _started;
    private bool _needFullSync = true;
    private DateTimeOffset _lastFullSync = DateTimeOffset.MinValue;
    private readonly Lock _waitersLock = new();
    private readonly List<(long Generation, TaskCompletionSource Done)> _waiters = [];
    private readonly List<(Func<ProxyState, bool> Condition, TaskCompletionSource Done)> _stateWaiters = [];
    private long _syncsStarted;

    private readonly ProxyHealth? _health;
    private readonly ProxyMetrics? _metrics;

    public ServiceProxy(IProxyBackend backend, ProxyOptions options, ILogger logger, TimeProvider? time = null, ProxyHealth? health = null,
        ProxyMetrics? metrics = null)
    {
        _health = health;
        _metrics = metrics;
        _backend = backend;
        _options = options;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _services = new ServiceChangeTracker(logger);
        _endpoints = new EndpointsChangeTracker(options.NodeName, logger);
        _runner = new BoundedFrequencyRunner(SyncAsync, options.MinSyncPeriod, options.SyncPeriod, options.RetryPeriod, logger, _time);
    }

    /// <summary>Services skipped because the node cannot program them (service, reason): for events.</summary>
    public event Action<V1Service, string>? ServiceSkipped
    {
        add => _services.Invalid += value;
        remove => _services.Invalid -= value;
    }

    /// <summary>The health check node ports of externalTrafficPolicy Local services, kept in line after each sync.</summary>
    public ServiceHealthServer? ServiceHealth { get; init; }

    /// <summary>Syncs that succeeded, and which of them were full.</summary>
    public int Syncs { get; private set; }

    public int FullSyncs { get; private set; }

    /// <summary>Syncs the backend refused.</summary>
    public int FailedSyncs { get; private set; }

    /// <summary>The state of the last successful sync.</summary>
    public ProxyState? LastState { get; private set; }

    /// <summary>Runs the informers' first lists, then the sync loop, until <paramref name="stop"/>.</summary>
    public async Task RunAsync(Informer<V1Service, V1ServiceList> services, Informer<V1EndpointSlice, V1EndpointSliceList> slices,
        CancellationToken stop)
    {
        services.AddHandler(this);
        slices.AddHandler(this);
        services.Start();
        slices.Start();
        // ReadyAsync means the first list is in the cache with its notifications queued, not yet handed to us: the
        // first list is recorded from the caches, so the first sync has it all. The queued adds repeat it (no change).
        await services.ReadyAsync(stop);
        foreach (var svc in services.Cache.List())
        {
            _services.Update(null, svc);
        }
        OnServicesSynced();
        await slices.ReadyAsync(stop);
        foreach (var slice in slices.Cache.List())
        {
            _endpoints.Update(slice, removed: false);
        }
        OnEndpointSlicesSynced();
        await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>The first list of services is in.</summary>
    public void OnServicesSynced()
    {
        _servicesSynced = true;
        StartIfReady();
    }

    /// <summary>The first list of EndpointSlices is in.</summary>
    public void OnEndpointSlicesSynced()
    {
        _endpointsSynced = true;
        StartIfReady();
    }

    private void StartIfReady()
    {
        lock (_runner)
        {
            if (_servicesSynced && _endpointsSynced && !_started)
            {
                _started = true;
                _runner.Start();
            }
        }
    }

    /// <summary>Completes after a successful sync that started after this call.</summary>
    public Task WaitForSyncAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waitersLock)
        {
            _waiters.Add((_syncsStarted + 1, done));
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes once a successful sync has programmed a state for which <paramref name="condition"/> holds
    /// (checked against the last one at once, then after every sync).</summary>
    public Task WaitForStateAsync(Func<ProxyState, bool> condition, CancellationToken cancellationToken = default)
    {
        lock (_waitersLock)
        {
            if (LastState is { } last && condition(last))
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _stateWaiters.Add((condition, done));
            return done.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Asks for a sync now (within the minimum period): for the periodic/forced paths and tests.</summary>
    public void RequestSync() => _runner.Run();

    void IInformerHandler<V1Service>.OnAdd(V1Service obj) => Changed(_services.Update(null, obj));

    void IInformerHandler<V1Service>.OnUpdate(V1Service oldObj, V1Service newObj) => Changed(_services.Update(oldObj, newObj));

    void IInformerHandler<V1Service>.OnDelete(V1Service obj) => Changed(_services.Update(obj, null));

    void IInformerHandler<V1EndpointSlice>.OnAdd(V1EndpointSlice obj) => Changed(_endpoints.Update(obj, removed: false));

    void IInformerHandler<V1EndpointSlice>.OnUpdate(V1EndpointSlice oldObj, V1EndpointSlice newObj) => Changed(_endpoints.Update(newObj, removed: false));

    void IInformerHandler<V1EndpointSlice>.OnDelete(V1EndpointSlice obj) => Changed(_endpoints.Update(obj, removed: true));

    private void Changed(bool changed)
    {
        if (changed && _started)
        {
            _health?.QueuedUpdate();
            _runner.Run();
        }
    }

    private async Task<bool> SyncAsync(CancellationToken cancellationToken)
    {
        await _syncLock.WaitAsync(cancellationToken);
        try
        {
            long generation;
            lock (_waitersLock)
            {
                generation = ++_syncsStarted;
            }
            var changed = _services.Apply(_serviceMap);
            var endpoints = _endpoints.Apply(_endpointsMap);
            changed.UnionWith(endpoints.Changed);
            var state = new ProxyState(new Dictionary<ServicePortName, ServicePort>(_serviceMap),
                new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>(_endpointsMap), changed, endpoints.Removed)
            {
                TriggerTimes = endpoints.TriggerTimes,
            };
            var full = _needFullSync || _time.GetUtcNow() - _lastFullSync >= _options.SyncPeriod;
            var started = _time.GetTimestamp();
            try
            {
                await _backend.SyncAsync(state, full, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The node kept its previous rules; what was recorded is in the maps already, so the retry, which is
                // full, programs it all.
                _needFullSync = true;
                FailedSyncs++;
                Log.SyncFailed(_logger, full ? "full" : "partial", ex);
                return false;
            }
            _needFullSync = false;
            if (full)
            {
                _lastFullSync = _time.GetUtcNow();
                FullSyncs++;
            }
            Syncs++;
            _health?.Updated();
            if (ServiceHealth is not null)
            {
                await ServiceHealth.SyncAsync(state, cancellationToken);
            }
            if (_metrics is not null)
            {
                var now = _time.GetUtcNow();
                _metrics.Synced(full, _time.GetElapsedTime(started), now);
                foreach (var t in state.TriggerTimes)
                {
                    _metrics.Programmed(now - t);
                }
            }
            lock (_waitersLock)
            {
                LastState = state;
                foreach (var w in _stateWaiters.Where(w => w.Condition(state)).ToList())
                {
                    w.Done.TrySetResult();
                    _stateWaiters.Remove(w);
                }
                foreach (var w in _waiters.Where(w => w.Generation <= generation))
                {
                    w.Done.TrySetResult();
                }
                _waiters.RemoveAll(w => w.Generation <= generation);
            }
            return true;
        }
        finally
        {
            _syncLock.Release();
        }
    }

    public ValueTask DisposeAsync() => _runner.DisposeAsync();

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Proxy {Kind} sync failed; the previous rules stay, the next sync is full")]
        public static partial void SyncFailed(ILogger logger, string kind, Exception exception);
    }
}
