using NodeAgent.Images;
using NodeAgent.Runtime.Containers;
using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

public sealed class ContainerSpecBuilderTests : IDisposable
{
    private readonly TempDir _dir = new();

    private SandboxRecord Sandbox(bool hostPid = false) => new()
    {
        Id = new string('a', 64),
        Config = new PodSandboxConfig { Name = "web", Uid = "u1", LogDirectory = _dir.Combine("logs"), CgroupParent = "kubepods/podu1", HostPid = hostPid },
        NamespacePaths = new() { ["net"] = "/run/ns/net", ["ipc"] = "/run/ns/ipc", ["uts"] = "/run/ns/uts" },
        ShmPath = "/run/shm",
        HostnamePath = _dir.Combine("hostname"),
        HostsPath = _dir.Combine("hosts"),
        ResolvConfPath = _dir.Combine("resolv.conf"),
    };

    private ContainerSpec.ContainerSpec Build(ContainerConfig config, ImageConfig? image = null, bool hostPid = false)
    {
        File.WriteAllText(_dir.Combine("hostname"), "web\n");
        return ContainerSpecBuilder.Build(new ContainerSpecBuilder.Inputs(
            "c1", _dir.Path, image ?? new ImageConfig { Cmd = ["sh"] }, config, Sandbox(hostPid), ["/sys/fs/cgroup/pids/x/cgroup.procs"],
            _dir.Combine("logs", "app", "0.log"), 1024, 3));
    }

    private static ContainerConfig Config(ContainerSecurity? security = null) =>
        new() { Name = "app", Image = "busybox", LogPath = "app/0.log", Security = security ?? new() };

    [Fact]
    public void JoinsThePodNamespacesAndGetsItsOwnPidAndMountNamespaces()
    {
        var spec = Build(Config());
        Assert.Contains(spec.Namespaces, n => n.Type == "net" && n.Path == "/run/ns/net");
        Assert.Contains(spec.Namespaces, n => n.Type == "uts" && n.Path == "/run/ns/uts");
        Assert.Contains(spec.Namespaces, n => n.Type == "pid" && n.Path is null);
        Assert.Contains(spec.Namespaces, n => n.Type == "mnt" && n.Path is null);
    }

    [Fact]
    public void HostPidSharesTheHostPidNamespace() =>
        Assert.DoesNotContain(Build(Config(), hostPid: true).Namespaces, n => n.Type == "pid");

    [Fact]
    public void DefaultCapabilitiesAreDockers()
    {
        var spec = Build(Config());
        Assert.Equal(14, spec.Process.Capabilities.Count);
        Assert.Contains("NET_BIND_SERVICE", spec.Process.Capabilities);
        Assert.DoesNotContain("SYS_ADMIN", spec.Process.Capabilities);
        Assert.Contains("/proc/kcore", spec.MaskedPaths);
        Assert.Contains("/proc/sys", spec.ReadonlyPaths);
    }

    [Fact]
    public void AddAndDropCapabilities()
    {
        var spec = Build(Config(new ContainerSecurity { AddCapabilities = ["NET_ADMIN"], DropCapabilities = ["CAP_KILL", "chown"] }));
        Assert.Contains("NET_ADMIN", spec.Process.Capabilities);
        Assert.DoesNotContain("KILL", spec.Process.Capabilities);
        Assert.DoesNotContain("CHOWN", spec.Process.Capabilities);
    }

    [Fact]
    public void DropAllKeepsOnlyAdded() =>
        Assert.Equal(["NET_BIND_SERVICE"], Build(Config(new ContainerSecurity { DropCapabilities = ["ALL"], AddCapabilities = ["NET_BIND_SERVICE"] })).Process.Capabilities);

    [Fact]
    public void PrivilegedGetsEverythingAndNoMasks()
    {
        var spec = Build(Config(new ContainerSecurity { Privileged = true, NoNewPrivileges = true }));
        Assert.True(spec.Privileged);
        Assert.Contains("SYS_ADMIN", spec.Process.Capabilities);
        Assert.Empty(spec.MaskedPaths);
        Assert.False(spec.Process.NoNewPrivileges);
        Assert.DoesNotContain("ro", spec.Mounts.Single(m => m.Destination == "/sys").Options);
    }

    [Fact]
    public void UnknownCapabilityIsACreateError()
    {
        var ex = Assert.Throws<RuntimeException>(() => Build(Config(new ContainerSecurity { AddCapabilities = ["FLY"] })));
        Assert.Equal(RuntimeErrorKind.CreateContainerError, ex.Kind);
        Assert.Contains("FLY", ex.Message);
    }

    [Fact]
    public void NoCommandAnywhereIsACreateError()
    {
        var ex = Assert.Throws<RuntimeException>(() => Build(Config(), new ImageConfig()));
        Assert.Contains("no command specified", ex.Message);
    }

    [Fact]
    public void PodFilesAndShmAreBound()
    {
        var spec = Build(Config() with { Mounts = [new VolumeMount("/data", "/mnt/data", ReadOnly: true)] });
        Assert.Equal("/run/shm", spec.Mounts.Single(m => m.Destination == "/dev/shm").Source);
        Assert.Equal(_dir.Combine("hosts"), spec.Mounts.Single(m => m.Destination == "/etc/hosts").Source);
        Assert.Contains("ro", spec.Mounts.Single(m => m.Destination == "/mnt/data").Options);
        Assert.Equal(["/sys/fs/cgroup/pids/x/cgroup.procs"], spec.CgroupProcsFiles);
        Assert.Contains("HOSTNAME=web", spec.Process.Env);
    }

    [Fact]
    public void WorkingDirFallsBackToTheImageThenRoot()
    {
        Assert.Equal("/srv", Build(Config(), new ImageConfig { Cmd = ["x"], WorkingDir = "/srv" }).Process.Cwd);
        Assert.Equal("/", Build(Config()).Process.Cwd);
        Assert.Equal("/w", Build(Config() with { WorkingDir = "/w" }).Process.Cwd);
    }

    [Fact]
    public void RunAsNonRootWithARootImageIsAConfigErrorInKubeletsWords()
    {
        var ex = Assert.Throws<RuntimeException>(() => Build(Config(new ContainerSecurity { RunAsNonRoot = true })));
        Assert.Equal(RuntimeErrorKind.CreateContainerConfigError, ex.Kind);
        Assert.Equal("container has runAsNonRoot and image will run as root (pod: \"web_default(u1)\", container: app)", ex.Message);
        Assert.Equal(1000u, Build(Config(new ContainerSecurity { RunAsNonRoot = true, RunAsUser = 1000 })).Process.Uid);
    }

    [Fact]
    public void GroupsAreThePrimaryThenFsGroupAndSupplementalGroups()
    {
        var spec = Build(Config(new ContainerSecurity { RunAsUser = 1000, RunAsGroup = 3000, SupplementalGroups = [5000, 4000, 3000] }));
        Assert.Equal([3000u, 5000u, 4000u], spec.Process.AdditionalGids);
    }

    [Fact]
    public void AReadOnlyRootMakesHostnameAndResolvConfReadOnlyButNotHosts()
    {
        var spec = Build(Config(new ContainerSecurity { ReadOnlyRootFilesystem = true }));
        Assert.True(spec.ReadonlyRootfs);
        Assert.Contains("ro", spec.Mounts.Single(m => m.Destination == "/etc/hostname").Options);
        Assert.Contains("ro", spec.Mounts.Single(m => m.Destination == "/etc/resolv.conf").Options);
        Assert.DoesNotContain("ro", spec.Mounts.Single(m => m.Destination == "/etc/hosts").Options);
        Assert.DoesNotContain("ro", spec.Mounts.Single(m => m.Destination == "/dev/shm").Options);
        Assert.DoesNotContain("ro", Build(Config()).Mounts.Single(m => m.Destination == "/etc/resolv.conf").Options);
    }

    public void Dispose() => _dir.Dispose();
}
