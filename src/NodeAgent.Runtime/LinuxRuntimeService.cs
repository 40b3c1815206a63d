using NodeAgent.Cgroups;
using NodeAgent.Cri;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Runtime.Containers;
using NodeAgent.Runtime.Events;
using NodeAgent.Runtime.Exec;
using NodeAgent.Runtime.Persistence;
using NodeAgent.Runtime.Sandboxes;
using NodeAgent.Runtime.State;
using NodeAgent.Runtime.Supervision;

namespace NodeAgent.Runtime;

/// <summary>
/// NodeAgent's own container runtime behind the CRI-shaped <see cref="IRuntimeService"/>. State lives under the root
/// directory. Each sandbox and container has its own flock (a <c>lock</c> file in its directory), so the CLI and the
/// daemon sharing a root exclude each other per object, and one pod's slow network set-up holds up no other pod.
/// Lists and statuses come from an in-memory view, loaded at construction (re-adopting containers whose shims kept
/// running while no runtime was) and kept current by the runtime's own operations and exit events; when another
/// process on the same root has changed state (the shared change counter moved), the view is reloaded.
/// </summary>
public sealed class LinuxRuntimeService : IRuntimeService, IDisposable
{
    private readonly RuntimePaths _paths;
    private readonly SandboxManager _sandboxes;
    private readonly ContainerManager _containers;
    private readonly ShimLauncher _launcher;
    private readonly ExitTracker _exits;
    private readonly ContainerStatusReader _statusReader;
    private readonly ContainerEventBroadcaster _events = new();
    private readonly IPodNetwork? _network;
    private readonly ChangeCounter _changes;
    private readonly ExitWatcher _execExits = new();
    private readonly ExecLauncher _execs;
    private readonly ExecServers? _execServers;

    // Guards the view, the known change count and the reconcile task; held for in-memory work and reloads only.
    private readonly object _gate = new();
    private readonly RuntimeView _view = new();
    private long _knownChanges = -1;
    private Task? _networkReconciled;

    public LinuxRuntimeService(RuntimeOptions options, IImageStore images, ISnapshotter snapshotter, ICgroupManager? cgroups, IPodNetwork? network = null)
    {
        _network = network;
        _paths = new RuntimePaths(options.RootDir, options.ResolveStateDir());
        var freshState = _paths.State != _paths.Root && !Directory.Exists(_paths.Containers);
        Directory.CreateDirectory(_paths.Containers);
        Directory.CreateDirectory(_paths.Sandboxes);
        if (freshState)
        {
            // A state directory apart from the root that does not exist yet: the first start on this root since a
            // boot. The writable layers containers of an earlier boot left in the root have no container any more;
            // one an overlay still uses (the state directory was changed under running containers) stays.
            var inUse = Mounts.OverlayUpperDirs();
            foreach (var key in snapshotter.ContainerKeys().Where(k => !inUse.Contains(snapshotter.WritableLayerPath(k))))
            {
                snapshotter.RemoveContainer(key);
            }
        }

        _sandboxes = new SandboxManager(_paths, cgroups, options.ShimPath, _execExits);
        _containers = new ContainerManager(_paths, options, images, snapshotter, cgroups);
        _statusReader = new ContainerStatusReader(_paths, _containers);
        _launcher = new ShimLauncher(options.ShimPath);
        _exits = new ExitTracker(_paths, OnExited);
        _changes = ChangeCounter.Open(_paths.Changes);
        _execs = new ExecLauncher(options.ShimPath, _execExits);
        _execServers = options.ResidentExecServers ? new ExecServers(_execs) : null;
        lock (_gate)
        {
            Reload();
        }
    }

    public IContainerEventSubscription SubscribeEvents() => _events.Subscribe();

    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, CancellationToken cancellationToken)
    {
        // The new sandbox is locked before it exists on disk, so a network check or removal by another process waits
        // until it is complete; nothing else is held while the network is set up.
        var id = SandboxManager.NewId();
        Directory.CreateDirectory(_paths.Sandbox(id));
        using var held = await FileLock.AcquireAsync(_paths.SandboxLock(id), cancellationToken);
        var record = _sandboxes.Create(id, config);
        if (_network is not null && !config.HostNetwork)
        {
            record = await SetUpNetworkAsync(record, cancellationToken);
        }

        Commit(view => view.PutSandbox(record));
        return record.Id;
    }

    private async Task<SandboxRecord> SetUpNetworkAsync(SandboxRecord record, CancellationToken cancellationToken)
    {
        var network = _network!;
        var request = NetworkRequest(record);
        try
        {
            await NetworkReconciledAsync();
            var result = await network.SetUpAsync(request, cancellationToken);
            return _sandboxes.SetPodIps(record, result.Ips);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or OperationCanceledException)
        {
            // Nothing may stay behind: no address, no interface, no rules, no sandbox.
            try
            {
                await network.TearDownAsync(request, CancellationToken.None);
            }
            catch (Exception cleanup) when (cleanup is IOException or InvalidOperationException)
            {
                // The set-up error is the one to report.
            }

            _sandboxes.Remove(record.Id);
            throw new RuntimeException(RuntimeErrorKind.SandboxError,
                $"pod {record.Config.Namespace}/{record.Config.Name}: set up pod network: {ex.Message}", ex);
        }
    }

    /// <summary>Once per runtime: release what sandboxes gone while no runtime ran still hold (retried after a failure).</summary>
    private Task NetworkReconciledAsync()
    {
        lock (_gate)
        {
            if (_networkReconciled is null || _networkReconciled.IsFaulted || _networkReconciled.IsCanceled)
            {
                _networkReconciled = ReconcileNetworkAsync(CancellationToken.None);
            }

            return _networkReconciled;
        }
    }

    /// <summary>Releases network resources held for sandboxes that no longer exist.</summary>
    public Task ReconcileNetworkAsync(CancellationToken cancellationToken) =>
        _network?.ReconcileAsync(_sandboxes.List().Select(s => s.Id).ToList(), cancellationToken) ?? Task.CompletedTask;

    /// <summary>Checks that a sandbox's network is still as it was set up (CNI CHECK); throws naming the fault.</summary>
    public async Task CheckPodSandboxNetworkAsync(string sandboxId, CancellationToken cancellationToken)
    {
        // Under the sandbox's lock: a sandbox being created is checked only once its network is set up.
        using var held = await LockSandboxAsync(sandboxId, cancellationToken);
        var sandbox = _sandboxes.Get(sandboxId) ?? throw NotFound("sandbox", sandboxId);
        if (_network is not null && !sandbox.Config.HostNetwork)
        {
            await _network.CheckAsync(NetworkRequest(sandbox), cancellationToken);
        }
    }

    private static PodNetworkRequest NetworkRequest(SandboxRecord record) => new()
    {
        SandboxId = record.Id,
        NetnsPath = record.NamespacePaths.GetValueOrDefault("net") ?? string.Empty,
        PodName = record.Config.Name,
        PodNamespace = record.Config.Namespace,
        PodUid = record.Config.Uid,
        PortMappings = record.Config.PortMappings,
    };

    public async Task StopPodSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        _ = Query(view => view.Sandbox(sandboxId)) ?? throw NotFound("sandbox", sandboxId);
        foreach (var c in ListContainers(new ContainerFilter { PodSandboxId = sandboxId }))
        {
            await StopContainerAsync(c.Id, TimeSpan.Zero, cancellationToken);
        }

        using var held = await LockSandboxAsync(sandboxId, cancellationToken);
        var sandbox = _sandboxes.Get(sandboxId) ?? throw NotFound("sandbox", sandboxId);
        var stopped = _sandboxes.MarkStopped(sandbox);
        Commit(view => view.PutSandbox(stopped));
    }

    /// <summary>
    /// Stops and removes the sandbox's containers, tears its network down, removes its log directory (when it is the
    /// pod's own, by kubelet's naming) and the sandbox. Idempotent.
    /// </summary>
    public async Task RemovePodSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        await RemoveContainersOfAsync(sandboxId, cancellationToken);
        if (!RuntimeIds.IsValid(sandboxId))
        {
            return;
        }

        using var held = await FileLock.TryAcquireAsync(_paths.SandboxLock(sandboxId), create: false, cancellationToken);
        var sandbox = held is null ? null : _sandboxes.Get(sandboxId);
        if (sandbox is null)
        {
            Commit(view => view.RemoveSandbox(sandboxId));
            return;
        }

        // Creating a container takes the sandbox's lock: none can appear now, but one may have appeared meanwhile.
        await RemoveContainersOfAsync(sandboxId, cancellationToken);
        if (_network is not null && !sandbox.Config.HostNetwork)
        {
            try
            {
                await _network.TearDownAsync(NetworkRequest(sandbox), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                // The sandbox stays, so a retry can release what the network still holds.
                throw new RuntimeException(RuntimeErrorKind.SandboxError,
                    $"pod {sandbox.Config.Namespace}/{sandbox.Config.Name}: tear down pod network of sandbox {Short(sandboxId)}: {ex.Message}", ex);
            }
        }

        // A replacement sandbox of the same pod (a new attempt) shares the directory: it stays while one exists.
        var shared = Query(view => view.Sandboxes().Any(s => s.Id != sandboxId && s.Config.LogDirectory == sandbox.Config.LogDirectory));
        if (!shared)
        {
            PodLogDirectory.Remove(sandboxId, sandbox.Config);
        }

        _sandboxes.Remove(sandboxId);
        Commit(view => view.RemoveSandbox(sandboxId));
    }

    private async Task RemoveContainersOfAsync(string sandboxId, CancellationToken cancellationToken)
    {
        foreach (var c in ListContainers(new ContainerFilter { PodSandboxId = sandboxId }))
        {
            await StopContainerAsync(c.Id, TimeSpan.Zero, cancellationToken);
            await RemoveContainerAsync(c.Id, cancellationToken);
        }
    }

    public PodSandboxStatus? PodSandboxStatus(string sandboxId) => Query(view => view.Sandbox(sandboxId) is { } r ? ToStatus(r) : null);

    public IReadOnlyList<PodSandboxStatus> ListPodSandboxes(PodSandboxFilter? filter = null) => Query(view => view.Sandboxes(filter, ToStatus));

    public async Task<string> CreateContainerAsync(string sandboxId, ContainerConfig config, CancellationToken cancellationToken)
    {
        // The sandbox's lock keeps it from being removed while a container is made in it.
        using var held = await LockSandboxAsync(sandboxId, cancellationToken);
        var sandbox = Query(view => view.Sandbox(sandboxId)) ?? _sandboxes.Get(sandboxId) ?? throw NotFound("sandbox", sandboxId);
        var record = await _containers.CreateAsync(sandbox, config, cancellationToken);
        Commit(view => view.PutContainer(record, ContainerStatusReader.Created(record)));
        return record.Id;
    }

    public async Task StartContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        // Check and launch under the container's lock: of two processes starting one container, exactly one launches.
        using var held = await LockContainerAsync(containerId, cancellationToken);
        var record = _containers.Get(containerId) ?? throw NotFound("container", containerId);
        var dir = _paths.Container(containerId);
        if (Bundle.ReadState(dir) is not null || Bundle.ReadExit(dir) is not null)
        {
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Config.Name} ({Short(containerId)}) was already started");
        }

        var reply = await _launcher.LaunchAsync(dir, cancellationToken);
        var status = _statusReader.Read(record);
        Commit(view => view.PutContainer(record, status));
        if (reply.Error is not null)
        {
            _events.Publish(new ContainerEvent(ContainerEventType.Exited, containerId, record.SandboxId, DateTimeOffset.UtcNow));
            throw new RuntimeException(RuntimeErrorKind.StartError, $"container {record.Config.Name} ({Short(containerId)}): {reply.Error}");
        }

        _events.Publish(new ContainerEvent(ContainerEventType.Started, containerId, record.SandboxId, DateTimeOffset.UtcNow));
        if (Bundle.ReadState(dir) is { } state)
        {
            _exits.Watch(containerId, record.SandboxId, state.ShimPid);
        }
    }

    public async Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var record = Query(view => view.Container(containerId))?.Record ?? throw NotFound("container", containerId);
        var dir = _paths.Container(containerId);
        var state = Bundle.ReadState(dir);
        if (state is null || Bundle.ReadExit(dir) is not null)
        {
            RefreshIfExited(containerId);
            return;
        }

        // Make sure this process learns of the exit even if another process started the container.
        _exits.Watch(containerId, record.SandboxId, state.ShimPid);
        using var pidFd = PidFd.TryOpen(state.Pid);
        if (pidFd is null)
        {
            await _exits.WaitAsync(containerId, cancellationToken);
            return;
        }

        var exited = _exits.WaitAsync(containerId, cancellationToken);
        if (timeout > TimeSpan.Zero && Bundle.ReadExit(dir) is null)
        {
            pidFd.Signal(record.StopSignal);
            if (await Task.WhenAny(exited, Task.Delay(timeout, cancellationToken)) == exited)
            {
                return;
            }
        }

        if (Bundle.ReadExit(dir) is null)
        {
            pidFd.Signal(Signals.SIGKILL);
        }

        await exited;
    }

    public async Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        if (!RuntimeIds.IsValid(containerId))
        {
            return;
        }

        if (_execServers is not null)
        {
            await _execServers.ForgetAsync(containerId);
        }

        using var held = await FileLock.TryAcquireAsync(_paths.ContainerLock(containerId), create: false, cancellationToken);
        var record = held is null ? null : _containers.Get(containerId);
        if (record is null)
        {
            Commit(view => view.RemoveContainer(containerId));
            return;
        }

        if (_statusReader.Read(record).State == ContainerState.Running)
        {
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Config.Name} ({Short(containerId)}) is running: stop it first");
        }

        _containers.Remove(record);
        _exits.Forget(containerId);
        Commit(view => view.RemoveContainer(containerId));
    }

    public IReadOnlyList<ContainerStatus> ListContainers(ContainerFilter? filter = null) => Query(view => view.Containers(filter));

    public ContainerStatus? ContainerStatus(string containerId) => Query(view => view.Container(containerId)?.Status);

    public async Task WaitContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        var record = Query(view => view.Container(containerId))?.Record ?? throw NotFound("container", containerId);
        var state = Bundle.ReadState(_paths.Container(containerId));
        if (state is not null)
        {
            _exits.Watch(containerId, record.SandboxId, state.ShimPid);
        }

        await _exits.WaitAsync(containerId, cancellationToken);
        RefreshIfExited(containerId);
    }

    public async Task<ExecSyncResult> ExecSyncAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await using var session = await ExecAsync(new ExecRequest { ContainerId = containerId, Command = command }, cancellationToken);
        return await ExecSyncRunner.RunAsync(session, timeout, cancellationToken);
    }

    public async Task<IExecSession> ExecAsync(ExecRequest request, CancellationToken cancellationToken)
    {
        var record = Query(view => view.Container(request.ContainerId))?.Record ?? throw NotFound("container", request.ContainerId);
        var name = $"{record.Config.Name} ({Short(record.Id)})";
        ExecLauncher.CheckCommand(name, request);
        if (_execServers is not null && !request.Tty && record.Config.Security.Seccomp.Type != SeccompProfileType.Localhost
            && await _execServers.TryStartAsync(record.Id, _paths.Container(record.Id), name, request, cancellationToken) is { } served)
        {
            return served;
        }

        return await _execs.StartAsync(_paths.Container(record.Id), name, request, cancellationToken);
    }

    /// <summary>
    /// The exit is on disk (another process saw it first, or this process's notification is still on its way): make
    /// the view say so now, so a caller that waited for the exit reads it in the status.
    /// </summary>
    private void RefreshIfExited(string containerId)
    {
        lock (_gate)
        {
            if (_view.Container(containerId) is { Status.State: ContainerState.Running or ContainerState.Created } entry
                && Bundle.ReadExit(_paths.Container(containerId)) is not null)
            {
                _view.PutContainer(entry.Record, _statusReader.Read(entry.Record));
            }
        }
    }

    /// <summary>For the stats collector: the ready sandboxes and the running containers with their records, from memory.</summary>
    internal (List<SandboxRecord> Sandboxes, List<(ContainerRecord Record, ContainerStatus Status)> Containers) StatsTargets() => Query(view => (
        view.Sandboxes().Where(s => !s.Stopped).ToList(),
        view.Containers().Where(c => c.Status.State == ContainerState.Running).ToList()));

    /// <summary>Resolves a full ID, a unique ID prefix or a container name to a container ID.</summary>
    public string? FindContainer(string idOrName) => Query(view =>
    {
        var all = view.Containers().Select(c => c.Record).ToList();
        var exact = all.FirstOrDefault(c => c.Id == idOrName) ?? all.FirstOrDefault(c => c.Config.Name == idOrName);
        if (exact is not null)
        {
            return exact.Id;
        }

        var matches = all.Where(c => c.Id.StartsWith(idOrName, StringComparison.Ordinal)).ToList();
        return matches.Count == 1 ? matches[0].Id : null;
    });

    private static PodSandboxStatus ToStatus(SandboxRecord r) => new()
    {
        Id = r.Id,
        Config = r.Config,
        State = r.Stopped ? SandboxState.NotReady : SandboxState.Ready,
        CreatedAt = r.CreatedAt,
        NamespacePaths = r.NamespacePaths,
        PodIps = r.PodIps,
    };

    /// <summary>A shim ended: its exit is on disk. Update the view, then tell subscribers.</summary>
    private void OnExited(string containerId, string sandboxId)
    {
        lock (_gate)
        {
            if (_view.Container(containerId) is { } entry)
            {
                _view.PutContainer(entry.Record, _statusReader.Read(entry.Record));
            }
        }

        _events.Publish(new ContainerEvent(ContainerEventType.Exited, containerId, sandboxId, DateTimeOffset.UtcNow));
    }

    /// <summary>Reads the view, first reloading it when another process on this root has changed state.</summary>
    private T Query<T>(Func<RuntimeView, T> read)
    {
        lock (_gate)
        {
            if (_changes.Read() != _knownChanges)
            {
                Reload();
            }

            return read(_view);
        }
    }

    /// <summary>Applies this process's change to the view and counts it; a count that moved further means another process changed state too.</summary>
    private void Commit(Action<RuntimeView> change)
    {
        lock (_gate)
        {
            change(_view);
            var count = _changes.Increment();
            _knownChanges = count == _knownChanges + 1 ? count : -1;
        }
    }

    /// <summary>
    /// Loads every sandbox and container from disk, watches every container whose shim is still running (re-adoption),
    /// and notes exits that happened while nobody watched. Called with <see cref="_gate"/> held.
    /// </summary>
    private void Reload()
    {
        var count = _changes.Read();
        _view.Clear();
        foreach (var sandbox in _sandboxes.List())
        {
            _view.PutSandbox(sandbox);
        }

        var running = new List<(ContainerRecord Record, ContainerSpec.ShimState State)>();
        foreach (var record in _containers.List())
        {
            var status = _statusReader.Read(record);
            _view.PutContainer(record, status);
            // Running, or started with no exit recorded and its shim gone: watching records that exit as unknown.
            var unfinished = status.State == ContainerState.Running || (status.State == ContainerState.Unknown && status.FinishedAt is null);
            if (unfinished && Bundle.ReadState(_paths.Container(record.Id)) is { } state)
            {
                running.Add((record, state));
            }
        }

        _knownChanges = count;
        foreach (var (record, state) in running)
        {
            _exits.Watch(record.Id, record.SandboxId, state.ShimPid);
        }
    }

    private async Task<FileLock> LockSandboxAsync(string sandboxId, CancellationToken cancellationToken) =>
        (RuntimeIds.IsValid(sandboxId) ? await FileLock.TryAcquireAsync(_paths.SandboxLock(sandboxId), create: false, cancellationToken) : null)
        ?? throw NotFound("sandbox", sandboxId);

    private async Task<FileLock> LockContainerAsync(string containerId, CancellationToken cancellationToken) =>
        (RuntimeIds.IsValid(containerId) ? await FileLock.TryAcquireAsync(_paths.ContainerLock(containerId), create: false, cancellationToken) : null)
        ?? throw NotFound("container", containerId);

    private static RuntimeException NotFound(string what, string id) => new(RuntimeErrorKind.NotFound, $"{what} {id} not found");

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;

    /// <summary>The PID of the container's resident exec server, when one runs (tests and diagnostics).</summary>
    public int? ExecServerPid(string containerId) => _execServers?.ServerPid(containerId);

    public void Dispose()
    {
        _execServers?.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10));
        _exits.Dispose();
        _execExits.Dispose();
        _events.Dispose();
        _changes.Dispose();
    }
}
