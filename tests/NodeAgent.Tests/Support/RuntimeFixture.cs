using NodeAgent.Registry;
using NodeAgent.Cgroups;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Runtime;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A real runtime on a scratch root: the busybox test image imported into a real image store, a cgroup driver under
/// a unique test prefix, logs in a scratch directory. Dispose removes every container, sandbox, mount and cgroup.
/// </summary>
public sealed class RuntimeFixture : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-runtime");

    private readonly Func<IPodNetwork>? _network;
    private readonly bool _residentExecServers;

    /// <param name="network">Makes the pod network for each runtime instance (none: sandboxes get no network).</param>
    /// <param name="residentExecServers">Execs through one resident exec server per container, as the agent runs them (else one-shot helpers, as the CLI).</param>
    /// <param name="separateState">Containers and sandboxes in a state directory of their own (as /run/nodeagent), not under the root.</param>
    public RuntimeFixture(Func<IPodNetwork>? network = null, bool residentExecServers = false, bool separateState = false)
    {
        _network = network;
        _residentExecServers = residentExecServers;
        Root = _dir.Combine("root");
        State = separateState ? _dir.Combine("state") : Root;
        Logs = _dir.Combine("logs");
        CgroupPrefix = "nodeagent-test-" + Guid.NewGuid().ToString("N")[..8];
        Images = new ImageStore(Root);
        Snapshotter = new OverlaySnapshotter(Images);
        Cgroups = CgroupManagerFactory.Create(rootPrefix: CgroupPrefix);
        Images.ImportAsync(TestImages.BusyboxOci, CancellationToken.None).GetAwaiter().GetResult();
        Runtime = Open();
    }

    public string Root { get; }

    /// <summary>Where containers and sandboxes live: <see cref="Root"/> unless the fixture was made with a separate state.</summary>
    public string State { get; }

    public string Logs { get; }

    public string CgroupPrefix { get; }

    public ImageStore Images { get; }

    public OverlaySnapshotter Snapshotter { get; }

    /// <summary>The image service over <see cref="Images"/> without a registry (only present images run).</summary>
    public RegistryImageService ImageService => new(Images, null, Root);

    public ICgroupManager Cgroups { get; }

    public LinuxRuntimeService Runtime { get; private set; }

    /// <summary>A second runtime instance on the same root, as after an agent restart.</summary>
    public LinuxRuntimeService Open() =>
        new(new RuntimeOptions { RootDir = Root, StateDir = State, ShimPath = RepoPaths.ShimPath, ResidentExecServers = _residentExecServers }, Images, Snapshotter, Cgroups, _network?.Invoke());

    public void Restart()
    {
        Runtime.Dispose();
        Runtime = Open();
    }

    public PodSandboxConfig Pod(string name, bool sharePid = false, bool hostNetwork = false) => new()
    {
        Name = name,
        Namespace = "test",
        Uid = Guid.NewGuid().ToString(),
        LogDirectory = Path.Combine(Logs, name),
        CgroupParent = $"kubepods/besteffort/pod{name}",
        SharePid = sharePid,
        HostNetwork = hostNetwork,
    };

    public static ContainerConfig Container(string name, params string[] command) => new()
    {
        Name = name,
        Image = "localhost/busybox:latest",
        Command = command,
        LogPath = $"{name}/0.log",
    };

    /// <summary>Starts a container in a new sandbox and returns its ID.</summary>
    public async Task<(string SandboxId, string ContainerId)> StartAsync(string pod, ContainerConfig container)
    {
        var sandbox = await Runtime.RunPodSandboxAsync(Pod(pod), CancellationToken.None);
        var id = await Runtime.CreateContainerAsync(sandbox, container, CancellationToken.None);
        await Runtime.StartContainerAsync(id, CancellationToken.None);
        return (sandbox, id);
    }

    public async Task<ContainerStatus> WaitAsync(string id)
    {
        await Runtime.WaitContainerAsync(id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        return Runtime.ContainerStatus(id)!;
    }

    public IReadOnlyList<string> Stdout(string id) => Lines(id, "stdout");

    public IReadOnlyList<string> Stderr(string id) => Lines(id, "stderr");

    private List<string> Lines(string id, string stream) =>
        File.ReadAllLines(Runtime.ContainerStatus(id)!.LogPath)
            .Select(l => l.Split(' ', 4))
            .Where(p => p.Length == 4 && p[1] == stream)
            .Select(p => p[3])
            .ToList();

    public void Dispose()
    {
        try
        {
            foreach (var sandbox in Runtime.ListPodSandboxes())
            {
                Runtime.RemovePodSandboxAsync(sandbox.Id, CancellationToken.None).GetAwaiter().GetResult();
            }
        }
        finally
        {
            Runtime.Dispose();
            foreach (var mount in Mounts.ListUnder(_dir.Path))
            {
                Mounts.Unmount(mount, detach: true);
            }

            Cgroups.Remove("");
            _dir.Dispose();
        }
    }
}
