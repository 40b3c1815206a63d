using NodeAgent.ContainerSpec;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Containers;

/// <summary>Turns an image config, a container config and its sandbox into the spec the shim runs.</summary>
public static class ContainerSpecBuilder
{
    public static readonly IReadOnlyList<string> MaskedPaths =
    [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    public static readonly IReadOnlyList<string> ReadonlyPaths =
        ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    public sealed record Inputs(
        string Id,
        string Rootfs,
        ImageConfig Image,
        ContainerConfig Config,
        SandboxRecord Sandbox,
        IReadOnlyList<string> CgroupProcsFiles,
        string LogPath,
        long LogMaxSize,
        int LogMaxFiles);

    public static ContainerSpec.ContainerSpec Build(Inputs input)
    {
        var config = input.Config;
        var sandbox = input.Sandbox;
        var security = config.Security;
        var hostname = File.Exists(sandbox.HostnamePath) ? File.ReadAllText(sandbox.HostnamePath).Trim() : sandbox.Config.Name;

        var env = EnvironmentBuilder.Build(input.Image, config.Env, hostname);
        var args = CommandLine.Resolve(input.Image, config.Command, config.Args);
        if (args.Count == 0)
        {
            throw new RuntimeException(RuntimeErrorKind.CreateContainerError,
                $"container {config.Name}: no command specified: image {config.Image} has no ENTRYPOINT or CMD and the container sets no command");
        }

        var pod = NonRootPolicy.Describe(sandbox.Config.Name, sandbox.Config.Namespace, sandbox.Config.Uid);
        if (NonRootPolicy.Check(pod, config.Name, security.RunAsNonRoot, security.RunAsUser, input.Image.User) is { } nonRoot)
        {
            throw new RuntimeException(RuntimeErrorKind.CreateContainerConfigError, nonRoot);
        }

        (uint Uid, uint Gid, IReadOnlyList<uint> Groups) identity;
        try
        {
            identity = UserResolver.Resolve(input.Rootfs, input.Image.User, security.RunAsUser, security.RunAsGroup);
        }
        catch (InvalidOperationException ex)
        {
            throw new RuntimeException(RuntimeErrorKind.CreateContainerError, $"container {config.Name}: {ex.Message}", ex);
        }

        // containerd: the primary group, the image's /etc/group memberships of the user, then the pod's groups
        // (fsGroup first, then supplementalGroups, as kubelet passes them).
        List<uint> groups = [identity.Gid, .. identity.Groups, .. security.SupplementalGroups.Select(g => checked((uint)g))];
        groups = [.. groups.Distinct()];

        IReadOnlyList<string> caps;
        try
        {
            caps = ContainerCapabilities.Compute(security.Privileged, security.AddCapabilities, security.DropCapabilities, ContainerCapabilities.Available);
        }
        catch (ArgumentException ex)
        {
            throw new RuntimeException(RuntimeErrorKind.CreateContainerError, $"container {config.Name}: {ex.Message}", ex);
        }

        var namespaces = new List<NamespaceSpec> { new() { Type = "mnt" } };
        foreach (var (type, path) in sandbox.NamespacePaths)
        {
            namespaces.Add(new NamespaceSpec { Type = type, Path = path });
        }

        if (!sandbox.Config.HostPid && !sandbox.NamespacePaths.ContainsKey("pid"))
        {
            namespaces.Add(new NamespaceSpec { Type = "pid" });
        }

        return new ContainerSpec.ContainerSpec
        {
            Id = input.Id,
            Rootfs = input.Rootfs,
            Process = new ProcessSpec
            {
                Args = args,
                Env = env.Select(kv => $"{kv.Key}={kv.Value}").ToList(),
                Cwd = string.IsNullOrEmpty(config.WorkingDir) ? (string.IsNullOrEmpty(input.Image.WorkingDir) ? "/" : input.Image.WorkingDir) : config.WorkingDir,
                Uid = identity.Uid,
                Gid = identity.Gid,
                AdditionalGids = groups,
                Capabilities = [.. caps],
                NoNewPrivileges = security.NoNewPrivileges && !security.Privileged,
            },
            Namespaces = namespaces,
            Mounts = DefaultMounts(sandbox, config),
            RootPropagation = MountPropagationCheck.RootPropagation(config.Mounts),
            MaskedPaths = security.Privileged ? [] : [.. MaskedPaths],
            ReadonlyPaths = security.Privileged ? [] : [.. ReadonlyPaths],
            CgroupProcsFiles = [.. input.CgroupProcsFiles],
            Privileged = security.Privileged,
            ReadonlyRootfs = security.ReadOnlyRootFilesystem,
            Log = new LogSpec { Path = input.LogPath, MaxSizeBytes = input.LogMaxSize, MaxFiles = input.LogMaxFiles },
        };
    }

    private static List<MountSpec> DefaultMounts(SandboxRecord sandbox, ContainerConfig config)
    {
        var privileged = config.Security.Privileged;
        var mounts = new List<MountSpec>
        {
            new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            new() { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = privileged ? ["nosuid", "noexec", "nodev"] : ["nosuid", "noexec", "nodev", "ro"] },
        };

        mounts.Add(sandbox.ShmPath is { } shm
            ? new MountSpec { Destination = "/dev/shm", Type = "bind", Source = shm, Options = ["rbind", "nosuid", "nodev", "noexec"] }
            : new MountSpec { Destination = "/dev/shm", Type = "bind", Source = "/dev/shm", Options = ["rbind"] });

        // containerd mounts the sandbox's hostname and resolv.conf read-only with a read-only root filesystem; kubelet
        // passes its managed /etc/hosts itself, always writable.
        List<string> podFile = config.Security.ReadOnlyRootFilesystem ? ["bind", "ro"] : ["bind"];
        mounts.Add(new MountSpec { Destination = "/etc/hostname", Type = "bind", Source = sandbox.HostnamePath, Options = podFile });
        mounts.Add(new MountSpec { Destination = "/etc/hosts", Type = "bind", Source = sandbox.HostsPath, Options = ["bind"] });
        mounts.Add(new MountSpec { Destination = "/etc/resolv.conf", Type = "bind", Source = sandbox.ResolvConfPath, Options = [.. podFile] });

        foreach (var m in config.Mounts)
        {
            mounts.Add(new MountSpec
            {
                Destination = m.ContainerPath,
                Type = "bind",
                Source = m.HostPath,
                Options = m.ReadOnly
                    ? ["rbind", "ro", MountPropagationCheck.Option(m.Propagation)]
                    : ["rbind", MountPropagationCheck.Option(m.Propagation)],
            });
        }

        return mounts;
    }
}
