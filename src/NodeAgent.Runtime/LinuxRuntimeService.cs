using System.Threading.Channels;
using NodeAgent.Cgroups;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Runtime.Containers;
using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;
using NodeAgent.Runtime.Sandboxes;
using NodeAgent.Runtime.Supervision;

namespace NodeAgent.Runtime;

/// <summary>
/// NodeAgent's own container runtime behind the CRI-shaped <see cref="IRuntimeService"/>. State lives under the root
/// directory; changes are serialised across processes by a file lock, so the CLI and the daemon can share a root.
/// On construction it re-adopts containers whose shims kept running while no runtime was.
/// </summary>
public sealed class LinuxRuntimeService : IRuntimeService, IDisposable
{
    private readonly RuntimePaths _paths;
    private readonly SandboxManager _sandboxes;
    private readonly ContainerManager _containers;
    private readonly ShimLauncher _launcher;
    private readonly ExitTracker _exits;
    private readonly IPodNetwork? _network;
    private Task? _networkReconciled;

    public LinuxRuntimeService(RuntimeOptions options, IImageStore images, ISnapshotter snapshotter, ICgroupManager? cgroups, IPodNetwork? network = null)
    {
        _network = network;
        _paths = new RuntimePaths(options.RootDir);
        Directory.CreateDirectory(_paths.Containers);
        Directory.CreateDirectory(_paths.Sandboxes);
        _sandboxes = new SandboxManager(_paths, cgroups, options.ShimPath);
        _containers = new ContainerManager(_paths, options, images, snapshotter, cgroups);
        _launcher = new ShimLauncher(options.ShimPath);
        _exits = new ExitTracker(_paths);
        Readopt();
    }

    public ChannelReader<ContainerEvent> Events => _exits.Events;

    public async Task<string> RunPodSandboxAsync(PodSandboxConfig config, CancellationToken cancellationToken)
    {
        using var _ = Lock();
        var record = _sandboxes.Create(config);
        if (_network is null || config.HostNetwork)
        {
            return record.Id;
        }

        var request = NetworkRequest(record);
        try
        {
            // Once per runtime: release what sandboxes gone while no runtime ran still hold (retried after a failure).
            if (_networkReconciled is null || _networkReconciled.IsFaulted || _networkReconciled.IsCanceled)
            {
                _networkReconciled = ReconcileNetworkAsync(CancellationToken.None);
            }

            await _networkReconciled;
            var result = await _network.SetUpAsync(request, cancellationToken);
            _sandboxes.SetPodIps(record, result.Ips);
            return record.Id;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException or OperationCanceledException)
        {
            // Nothing may stay behind: no address, no interface, no rules, no sandbox.
            try
            {
                await _network.TearDownAsync(request, CancellationToken.None);
            }
            catch (Exception cleanup) when (cleanup is IOException or InvalidOperationException)
            {
                // The set-up error is the one to report.
            }

            _sandboxes.Remove(record.Id);
            throw new RuntimeException(RuntimeErrorKind.SandboxError,
                $"pod {config.Namespace}/{config.Name}: set up pod network: {ex.Message}", ex);
        }
    }

    /// <summary>Releases network resources held for sandboxes that no longer exist.</summary>
    public Task ReconcileNetworkAsync(CancellationToken cancellationToken) =>
        _network?.ReconcileAsync(_sandboxes.List().Select(s => s.Id).ToList(), cancellationToken) ?? Task.CompletedTask;

    /// <summary>Checks that a sandbox's network is still as it was set up (CNI CHECK); throws naming the fault.</summary>
    public async Task CheckPodSandboxNetworkAsync(string sandboxId, CancellationToken cancellationToken)
    {
        // Under the runtime lock: a sandbox being created is checked only once its network is set up.
        using var _ = Lock();
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
        var sandbox = _sandboxes.Get(sandboxId) ?? throw NotFound("sandbox", sandboxId);
        foreach (var c in _containers.List().Where(c => c.SandboxId == sandboxId))
        {
            await StopContainerAsync(c.Id, TimeSpan.Zero, cancellationToken);
        }

        using var _ = Lock();
        _sandboxes.MarkStopped(sandbox);
    }

    public async Task RemovePodSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        foreach (var c in _containers.List().Where(c => c.SandboxId == sandboxId))
        {
            await StopContainerAsync(c.Id, TimeSpan.Zero, cancellationToken);
            await RemoveContainerAsync(c.Id, cancellationToken);
        }

        using var _ = Lock();
        if (_network is not null && _sandboxes.Get(sandboxId) is { Config.HostNetwork: false } sandbox)
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

        _sandboxes.Remove(sandboxId);
    }

    public PodSandboxStatus? PodSandboxStatus(string sandboxId) => _sandboxes.Get(sandboxId) is { } r ? ToStatus(r) : null;

    public IReadOnlyList<PodSandboxStatus> ListPodSandboxes() => _sandboxes.List().Select(ToStatus).ToList();

    public async Task<string> CreateContainerAsync(string sandboxId, ContainerConfig config, CancellationToken cancellationToken)
    {
        var sandbox = _sandboxes.Get(sandboxId) ?? throw NotFound("sandbox", sandboxId);
        var record = await _containers.CreateAsync(sandbox, config, cancellationToken);
        return record.Id;
    }

    public async Task StartContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        var record = _containers.Get(containerId) ?? throw NotFound("container", containerId);
        var dir = _paths.Container(containerId);
        using (Lock())
        {
            if (Bundle.ReadState(dir) is not null || Bundle.ReadExit(dir) is not null)
            {
                throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Config.Name} ({Short(containerId)}) was already started");
            }
        }

        var reply = await _launcher.LaunchAsync(dir, cancellationToken);
        if (reply.Error is not null)
        {
            _exits.Publish(new ContainerEvent(ContainerEventType.Exited, containerId, record.SandboxId, DateTimeOffset.UtcNow));
            throw new RuntimeException(RuntimeErrorKind.StartError, $"container {record.Config.Name} ({Short(containerId)}): {reply.Error}");
        }

        var state = Bundle.ReadState(dir);
        _exits.Publish(new ContainerEvent(ContainerEventType.Started, containerId, record.SandboxId, DateTimeOffset.UtcNow));
        if (state is not null)
        {
            _exits.Watch(containerId, record.SandboxId, state.ShimPid);
        }
    }

    public async Task StopContainerAsync(string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var record = _containers.Get(containerId) ?? throw NotFound("container", containerId);
        var dir = _paths.Container(containerId);
        var state = Bundle.ReadState(dir);
        if (state is null || Bundle.ReadExit(dir) is not null)
        {
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

    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        var record = _containers.Get(containerId);
        if (record is null)
        {
            return Task.CompletedTask;
        }

        using var _ = Lock();
        var status = ToStatus(record);
        if (status.State == ContainerState.Running)
        {
            throw new RuntimeException(RuntimeErrorKind.FailedPrecondition, $"container {record.Config.Name} ({Short(containerId)}) is running: stop it first");
        }

        _containers.Remove(record);
        _exits.Forget(containerId);
        return Task.CompletedTask;
    }

    public IReadOnlyList<ContainerStatus> ListContainers() => _containers.List().Select(ToStatus).ToList();

    public ContainerStatus? ContainerStatus(string containerId) => _containers.Get(containerId) is { } r ? ToStatus(r) : null;

    public Task WaitContainerAsync(string containerId, CancellationToken cancellationToken)
    {
        var record = _containers.Get(containerId) ?? throw NotFound("container", containerId);
        var state = Bundle.ReadState(_paths.Container(containerId));
        if (state is not null)
        {
            _exits.Watch(containerId, record.SandboxId, state.ShimPid);
        }

        return _exits.WaitAsync(containerId, cancellationToken);
    }

    /// <summary>Resolves a full ID, a unique ID prefix or a container name to a container ID.</summary>
    public string? FindContainer(string idOrName)
    {
        var all = _containers.List();
        var exact = all.FirstOrDefault(c => c.Id == idOrName) ?? all.FirstOrDefault(c => c.Config.Name == idOrName);
        if (exact is not null)
        {
            return exact.Id;
        }

        var matches = all.Where(c => c.Id.StartsWith(idOrName, StringComparison.Ordinal)).ToList();
        return matches.Count == 1 ? matches[0].Id : null;
    }

    private ContainerStatus ToStatus(ContainerRecord record)
    {
        var dir = _paths.Container(record.Id);
        var state = Bundle.ReadState(dir);
        var exit = Bundle.ReadExit(dir);
        var status = new ContainerStatus
        {
            Id = record.Id,
            SandboxId = record.SandboxId,
            Name = record.Config.Name,
            Attempt = record.Config.Attempt,
            CreatedAt = record.CreatedAt,
            Image = record.ImageRef,
            ImageId = record.ImageId,
            LogPath = record.LogPath,
            Command = record.Command,
            Labels = record.Config.Labels,
            Annotations = record.Config.Annotations,
            StartedAt = state?.StartedAt,
            Pid = state?.Pid ?? 0,
        };

        if (exit is not null)
        {
            if (exit.StartError is not null)
            {
                return status with
                {
                    State = ContainerState.Exited, ExitCode = exit.ExitCode, FinishedAt = exit.ExitedAt,
                    Reason = "StartError", Message = exit.StartError,
                };
            }

            if (File.Exists(Path.Combine(dir, "unknown-exit")))
            {
                return status with { State = ContainerState.Unknown, ExitCode = exit.ExitCode, FinishedAt = exit.ExitedAt, Reason = "Unknown", Message = "the container's shim ended without recording an exit status" };
            }

            var reason = exit.ExitCode == 0 ? "Completed" : "Error";
            if (exit.ExitCode == 128 + Signals.SIGKILL && _containers.OomKills(record) > 0)
            {
                reason = "OOMKilled";
            }

            return status with { State = ContainerState.Exited, ExitCode = exit.ExitCode, FinishedAt = exit.ExitedAt, Reason = reason };
        }

        if (state is null)
        {
            return status with { State = ContainerState.Created };
        }

        return status with { State = ExitTracker.IsShimOf(state.ShimPid, dir) ? ContainerState.Running : ContainerState.Unknown };
    }


    private PodSandboxStatus ToStatus(SandboxRecord r) => new()
    {
        Id = r.Id,
        Config = r.Config,
        State = r.Stopped ? SandboxState.NotReady : SandboxState.Ready,
        CreatedAt = r.CreatedAt,
        NamespacePaths = r.NamespacePaths,
        PodIps = r.PodIps,
    };

    /// <summary>Watches every container whose shim is still running, and records exits that happened while nobody watched.</summary>
    private void Readopt()
    {
        foreach (var record in _containers.List())
        {
            var dir = _paths.Container(record.Id);
            var state = Bundle.ReadState(dir);
            if (state is not null && Bundle.ReadExit(dir) is null)
            {
                _exits.Watch(record.Id, record.SandboxId, state.ShimPid);
            }
        }
    }

    private FileLock Lock() => FileLock.Acquire(_paths.Lock);

    private static RuntimeException NotFound(string what, string id) => new(RuntimeErrorKind.NotFound, $"{what} {id} not found");

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;

    public void Dispose() => _exits.Dispose();
}
