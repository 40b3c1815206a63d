using k8s.Models;
using NodeAgent.Cri;

using NodeAgent.Kubelet.Pods;
using NodeAgent.Runtime.Containers;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>kubelet's translateMountPropagation and the API server's validateMountPropagation; containerd's options
/// and root propagation for each mode.</summary>
public sealed class MountPropagationsTests
{
    private static V1Container Container(bool privileged) =>
        new() { Name = "c", SecurityContext = privileged ? new V1SecurityContext { Privileged = true } : null };

    [Theory]
    [InlineData(null, MountPropagation.Private)]
    [InlineData("None", MountPropagation.Private)]
    [InlineData("HostToContainer", MountPropagation.HostToContainer)]
    public void EachModeMapsToTheCrisPropagation(string? mode, MountPropagation expected) =>
        Assert.Equal(expected, MountPropagations.For(new V1VolumeMount { Name = "v", MountPropagation = mode }, Container(false)));

    [Fact]
    public void BidirectionalIsForPrivilegedContainersOnly()
    {
        var mount = new V1VolumeMount { Name = "v", MountPropagation = "Bidirectional" };
        Assert.Equal(MountPropagation.Bidirectional, MountPropagations.For(mount, Container(true)));
        var e = Assert.Throws<ContainerConfigException>(() => MountPropagations.For(mount, Container(false)));
        Assert.Equal("volumeMount v: Bidirectional mount propagation is available only to privileged containers", e.Message);
        Assert.Equal("invalid MountPropagation mode: \"Sideways\"",
            Assert.Throws<ContainerConfigException>(() => MountPropagations.For(new V1VolumeMount { Name = "v", MountPropagation = "Sideways" }, Container(true))).Message);
    }

    [Fact]
    public void ContainerdsOptionsAndRootPropagation()
    {
        Assert.Equal(("rprivate", "rslave", "rshared"),
            (MountPropagationCheck.Option(MountPropagation.Private), MountPropagationCheck.Option(MountPropagation.HostToContainer), MountPropagationCheck.Option(MountPropagation.Bidirectional)));
        VolumeMount M(MountPropagation p) => new("/h", "/c") { Propagation = p };
        Assert.Null(MountPropagationCheck.RootPropagation([M(MountPropagation.Private)]));
        Assert.Equal("rslave", MountPropagationCheck.RootPropagation([M(MountPropagation.Private), M(MountPropagation.HostToContainer)]));
        Assert.Equal("rshared", MountPropagationCheck.RootPropagation([M(MountPropagation.HostToContainer), M(MountPropagation.Bidirectional)]));
    }
}
