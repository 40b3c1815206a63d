using k8s.Models;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>kubelet's calculateEmptyDirMemorySize: node allocatable memory, or the pod's memory limit when every
/// container declares one and it is smaller, or the volume's sizeLimit when positive and smaller still.</summary>
public sealed class EmptyDirMemorySizeTests
{
    private const long Gi = 1L << 30, Mi = 1L << 20;

    private static V1Pod Pod(params string?[] memoryLimits) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", Uid = "u" },
        Spec = new V1PodSpec
        {
            Containers = [.. memoryLimits.Select((l, i) => new V1Container
            {
                Name = $"c{i}",
                Resources = l is null ? null : new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new(l) } },
            })],
        },
    };

    private static V1EmptyDirVolumeSource Memory(string? sizeLimit = null) =>
        new() { Medium = "Memory", SizeLimit = sizeLimit is null ? null : new ResourceQuantity(sizeLimit) };

    [Fact]
    public void WithoutLimitsItIsTheNodesAllocatableMemory() =>
        Assert.Equal((ulong)(8 * Gi), EmptyDirVolumes.MemorySize(Pod((string?)null), Memory(), 8 * Gi));

    [Fact]
    public void ThePodsMemoryLimitWhenEveryContainerHasOne()
    {
        Assert.Equal((ulong)(192 * Mi), EmptyDirVolumes.MemorySize(Pod("64Mi", "128Mi"), Memory(), 8 * Gi));
        // One container without a limit: the pod cgroup has none, so neither has the volume.
        Assert.Equal((ulong)(8 * Gi), EmptyDirVolumes.MemorySize(Pod("64Mi", null), Memory(), 8 * Gi));
        // A pod limit above allocatable is not used.
        Assert.Equal((ulong)(8 * Gi), EmptyDirVolumes.MemorySize(Pod("16Gi"), Memory(), 8 * Gi));
    }

    [Fact]
    public void TheSizeLimitWhenSmallerThanWhatThePodMayUse()
    {
        Assert.Equal((ulong)(16 * Mi), EmptyDirVolumes.MemorySize(Pod("64Mi"), Memory("16Mi"), 8 * Gi));
        Assert.Equal((ulong)(64 * Mi), EmptyDirVolumes.MemorySize(Pod("64Mi"), Memory("1Gi"), 8 * Gi));
        Assert.Equal((ulong)(64 * Mi), EmptyDirVolumes.MemorySize(Pod("64Mi"), Memory("0"), 8 * Gi));
        Assert.Equal((ulong)(5 * Mi), EmptyDirVolumes.MemorySize(Pod((string?)null), Memory("5Mi"), 8 * Gi));
    }
}
