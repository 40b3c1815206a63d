using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

public class QosClassifierTests
{
    private static V1Pod Pod(params V1ResourceRequirements?[] resources) => new()
    {
        Spec = new V1PodSpec { Containers = resources.Select((r, i) => new V1Container { Name = $"c{i}", Image = "x", Resources = r }).ToList() },
    };

    private static V1ResourceRequirements Res(string? cpuReq, string? memReq, string? cpuLim, string? memLim)
    {
        Dictionary<string, ResourceQuantity>? Map(string? cpu, string? mem)
        {
            var d = new Dictionary<string, ResourceQuantity>();
            if (cpu is not null) d["cpu"] = new ResourceQuantity(cpu);
            if (mem is not null) d["memory"] = new ResourceQuantity(mem);
            return d.Count == 0 ? null : d;
        }

        return new V1ResourceRequirements { Requests = Map(cpuReq, memReq), Limits = Map(cpuLim, memLim) };
    }

    [Fact]
    public void NoResourcesIsBestEffort() => Assert.Equal("BestEffort", QosClassifier.Classify(Pod(null, null)).ToString());

    [Fact]
    public void LimitsOnlyForEverythingIsGuaranteed() => Assert.Equal("Guaranteed", QosClassifier.Classify(Pod(Res(null, null, "100m", "64Mi"))).ToString());

    [Fact]
    public void EqualRequestsAndLimitsIsGuaranteed() => Assert.Equal("Guaranteed", QosClassifier.Classify(Pod(Res("1", "1Gi", "1", "1Gi"))).ToString());

    [Fact]
    public void RequestBelowLimitIsBurstable() => Assert.Equal("Burstable", QosClassifier.Classify(Pod(Res("50m", "64Mi", "100m", "64Mi"))).ToString());

    [Fact]
    public void OneContainerWithoutLimitsMakesItBurstable() => Assert.Equal("Burstable", QosClassifier.Classify(Pod(Res(null, null, "1", "1Gi"), Res("10m", null, null, null))).ToString());

    [Fact]
    public void MemoryLimitOnlyIsBurstable() => Assert.Equal("Burstable", QosClassifier.Classify(Pod(Res(null, null, null, "64Mi"))).ToString());
}
