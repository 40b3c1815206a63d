using k8s.Models;
using NodeAgent.Kubelet.Eviction;

namespace NodeAgent.Tests.Kubelet.Eviction;

/// <summary>kubelet's eviction manager localStorageEviction decisions on given usage: emptyDir sizeLimit, the pod's
/// total against the sum of its containers' ephemeral-storage limits, a container's own limit, in kubelet's order and
/// with kubelet's messages (eviction/helpers.go) and signals.</summary>
public sealed class LocalStorageEvictionTests
{
    private const long Mi = 1024 * 1024;

    private static V1Pod Pod(IList<V1Volume>? volumes = null, params (string Name, string? Limit)[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "u1" },
        Spec = new V1PodSpec
        {
            Volumes = volumes,
            Containers = [.. containers.Select(c => new V1Container
            {
                Name = c.Name,
                Image = "busybox",
                Resources = c.Limit is null ? null : new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["ephemeral-storage"] = new(c.Limit) } },
            })],
        },
    };

    private static PodStorageUsage Usage(Dictionary<string, ulong>? volumes = null, params ContainerStorageUsage[] containers) =>
        new(volumes ?? [], containers);

    [Fact]
    public void AnEmptyDirOverItsSizeLimitEvictsWithKubeletsMessage()
    {
        var pod = Pod([new V1Volume { Name = "scratch", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("1Mi") } }], ("main", null));
        Assert.Null(LocalStorageEviction.Decide(pod, Usage(new() { ["scratch"] = Mi })));
        var decision = LocalStorageEviction.Decide(pod, Usage(new() { ["scratch"] = Mi + 1 }));
        Assert.Equal(new EvictionDecision("emptydirfs.limit", "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". "), decision);
    }

    [Fact]
    public void OnlyAPodWithASizeLimitOrAnEphemeralStorageLimitNeedsItsUsageRead()
    {
        // The eviction manager reads no stats in a round where no active pod has one of these.
        Assert.False(LocalStorageEviction.HasLimits(Pod([new V1Volume { Name = "a", EmptyDir = new V1EmptyDirVolumeSource() }], ("main", null))));
        Assert.False(LocalStorageEviction.HasLimits(Pod([new V1Volume { Name = "z", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("0") } }], ("main", null))));
        Assert.True(LocalStorageEviction.HasLimits(Pod([new V1Volume { Name = "s", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("1Mi") } }], ("main", null))));
        Assert.True(LocalStorageEviction.HasLimits(Pod(null, ("main", null), ("side", "10Mi"))));
    }

    [Fact]
    public void AnEmptyDirWithoutSizeLimitOrWithZeroNeverEvicts()
    {
        var pod = Pod([
            new V1Volume { Name = "a", EmptyDir = new V1EmptyDirVolumeSource() },
            new V1Volume { Name = "b", EmptyDir = new V1EmptyDirVolumeSource { SizeLimit = new ResourceQuantity("0") } }], ("main", null));
        Assert.Null(LocalStorageEviction.Decide(pod, Usage(new() { ["a"] = 100 * Mi, ["b"] = 100 * Mi })));
    }

    [Fact]
    public void AContainerOverItsLimitCountsLogsAndWritableLayer()
    {
        var pod = Pod(null, ("main", "2Mi"), ("other", null));
        Assert.Null(LocalStorageEviction.Decide(pod, Usage(null, new ContainerStorageUsage("main", Mi, Mi), new ContainerStorageUsage("other", 0, 0))));
        var decision = LocalStorageEviction.Decide(pod, Usage(null, new ContainerStorageUsage("main", Mi, Mi + 1)));
        // With one container the pod's total is checked first (kubelet's order: emptyDir, pod, container).
        Assert.Equal(new EvictionDecision("ephemeralpodfs.limit", "Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. "), decision);
    }

    [Fact]
    public void AContainerOverItsOwnLimitWhileThePodIsUnderItsTotalIsTheContainerSignal()
    {
        var pod = Pod(null, ("main", "2Mi"), ("side", "8Mi"));
        var decision = LocalStorageEviction.Decide(pod, Usage(null, new ContainerStorageUsage("main", 3 * Mi, 0), new ContainerStorageUsage("side", 0, 0)));
        Assert.Equal(new EvictionDecision("ephemeralcontainerfs.limit", "Container main exceeded its local ephemeral storage limit \"2Mi\". "), decision);
    }

    [Fact]
    public void ThePodTotalAddsDiskEmptyDirsButNotMemoryOnes()
    {
        var pod = Pod([
            new V1Volume { Name = "disk", EmptyDir = new V1EmptyDirVolumeSource() },
            new V1Volume { Name = "mem", EmptyDir = new V1EmptyDirVolumeSource { Medium = "Memory" } }], ("a", "1Mi"), ("b", "1Mi"));
        var containers = new[] { new ContainerStorageUsage("a", 0, 0), new ContainerStorageUsage("b", 0, 0) };
        Assert.Null(LocalStorageEviction.Decide(pod, Usage(new() { ["disk"] = 2 * Mi, ["mem"] = 50 * Mi }, containers)));
        Assert.Equal(new EvictionDecision("ephemeralpodfs.limit", "Pod ephemeral local storage usage exceeds the total limit of containers 2Mi. "),
            LocalStorageEviction.Decide(pod, Usage(new() { ["disk"] = 2 * Mi + 1 }, containers)));
    }

    [Fact]
    public void UnmeasuredContainersCountAsNothing()
    {
        var pod = Pod(null, ("main", "1Mi"));
        Assert.Null(LocalStorageEviction.Decide(pod, Usage(null, new ContainerStorageUsage("main", null, null))));
    }

    [Fact]
    public void CriticalPodsAreStaticMirrorOrSystemCriticalPriority()
    {
        // kubelet's IsCriticalPod: evictPod refuses these.
        var api = Pod(null, ("main", null));
        api.Metadata.Annotations = new Dictionary<string, string> { ["kubernetes.io/config.source"] = "api" };
        Assert.False(EvictionManager.IsCritical(api));
        var file = Pod(null, ("main", null));
        file.Metadata.Annotations = new Dictionary<string, string> { ["kubernetes.io/config.source"] = "file" };
        Assert.True(EvictionManager.IsCritical(file));
        var priority = Pod(null, ("main", null));
        priority.Spec.Priority = 2_000_000_000;
        Assert.True(EvictionManager.IsCritical(priority));
        priority.Spec.Priority = 1_999_999_999;
        Assert.False(EvictionManager.IsCritical(priority));
    }
}
