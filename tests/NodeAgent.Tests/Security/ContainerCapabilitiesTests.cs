using NodeAgent.Linux;
using NodeAgent.Runtime.Containers;

namespace NodeAgent.Tests.Security;

/// <summary>
/// containerd's capability computation for CRI containers (WithPrivileged's WithAllCurrentCapabilities,
/// customopts.WithCapabilities): privileged and add [ALL] give the daemon's own set and never more; named additions
/// the node cannot give are errors that name them.
/// </summary>
public sealed class ContainerCapabilitiesTests
{
    // This host's shape: everything up to CHECKPOINT_RESTORE except SYS_RESOURCE (bit 24).
    private const ulong Node = 0x1fffeffffffUL;

    private static ulong Mask(IEnumerable<string> names) => Capabilities.ToMask(names, out _);

    [Fact]
    public void PrivilegedGetsTheDaemonsSetAndNothingElse()
    {
        var caps = ContainerCapabilities.Compute(true, [], [], Node);
        Assert.Equal(Node, Mask(caps));
        Assert.DoesNotContain("SYS_RESOURCE", caps);
        Assert.Contains("SYS_ADMIN", caps);
    }

    [Fact]
    public void PrivilegedIgnoresAddAndDropAsContainerdDoes() =>
        Assert.Equal(Node, Mask(ContainerCapabilities.Compute(true, ["SYS_RESOURCE"], ["ALL"], Node)));

    [Fact]
    public void AddAllIsTheDaemonsSetThenNamedDropsApply()
    {
        var caps = ContainerCapabilities.Compute(false, ["ALL"], ["CHOWN"], Node);
        Assert.Equal(Node & ~1UL, Mask(caps));
    }

    [Fact]
    public void DefaultsAreDockersFourteen()
    {
        var caps = ContainerCapabilities.Compute(false, [], [], Node);
        Assert.Equal(Capabilities.DefaultSet.Order(), caps.Order());
    }

    [Fact]
    public void DropAllThenAddKeepsOnlyTheAdded() =>
        Assert.Equal(["NET_ADMIN", "NET_RAW"], ContainerCapabilities.Compute(false, ["net_admin", "CAP_NET_RAW"], ["ALL"], Node));

    [Fact]
    public void ANamedDropWinsOverTheSameAdd() =>
        Assert.DoesNotContain("NET_ADMIN", ContainerCapabilities.Compute(false, ["NET_ADMIN"], ["NET_ADMIN"], Node));

    [Fact]
    public void DroppingAnUnknownCapabilityChangesNothing() =>
        Assert.Equal(14, ContainerCapabilities.Compute(false, [], ["NOT_A_CAP"], Node).Count);

    [Fact]
    public void AnUnknownAddIsAnErrorNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => ContainerCapabilities.Compute(false, ["FLY"], [], Node));
        Assert.Equal("unknown capability \"FLY\" in capabilities.add", ex.Message);
    }

    [Fact]
    public void AnAddTheNodeDoesNotHoldIsAnErrorNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() => ContainerCapabilities.Compute(false, ["SYS_RESOURCE"], [], Node));
        Assert.StartsWith("capability \"SYS_RESOURCE\" in capabilities.add is not in the node agent's own capability set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATrimmedDaemonSetTrimsTheDefaultsToo() =>
        Assert.DoesNotContain("CHOWN", ContainerCapabilities.Compute(false, [], [], Node & ~1UL));

    [Fact]
    public void StatusMasksAreReadFromProcStatusText()
    {
        const string status = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\n";
        Assert.Equal(Node, Capabilities.StatusMask(status, "CapEff"));
        Assert.Equal(0x1ffffffffffUL, Capabilities.StatusMask(status, "CapBnd"));
        Assert.Throws<InvalidDataException>(() => Capabilities.StatusMask(status, "CapAmb"));
        Assert.Throws<InvalidDataException>(() => Capabilities.StatusMask("CapEff:\tzz\n", "CapEff"));
    }

    [Fact]
    public void TheAgentsOwnSetIsItsEffectiveWithinItsBoundingSet()
    {
        var status = File.ReadAllText("/proc/self/status");
        Assert.Equal(Capabilities.StatusMask(status, "CapEff") & Capabilities.StatusMask(status, "CapBnd"), Capabilities.CurrentMask());
    }
}
