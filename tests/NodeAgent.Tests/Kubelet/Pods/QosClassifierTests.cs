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

    private static V1Pod FromJson(string resources) => k8s.KubernetesJson.Deserialize<V1Pod>(
        $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x","resources":{{{resources}}}}]}}""");

    [Fact]
    public void ANullLimitCountsAsAbsent() =>
        Assert.Equal("BestEffort", QosClassifier.Classify(FromJson("""{"limits":{"cpu":null}}""")).ToString());

    [Fact]
    public void ALimitBeyondADecimalCountsAsPresentAndNeverThrows()
    {
        Assert.Equal("Burstable", QosClassifier.Classify(FromJson("""{"limits":{"memory":"1e400"}}""")).ToString());
        Assert.Equal("Guaranteed", QosClassifier.Classify(FromJson("""{"limits":{"memory":"1e400","cpu":"1"}}""")).ToString());
        Assert.Equal("Burstable", QosClassifier.Classify(FromJson("""{"requests":{"memory":"1Gi","cpu":"1"},"limits":{"memory":"1e400","cpu":"1"}}""")).ToString());
    }

    [Fact]
    public void StatusBuildingSurvivesOddQuantities()
    {
        var pod = FromJson("""{"limits":{"cpu":null,"memory":"1e400"}}""");
        var status = PodStatusBuilder.Build(pod, PodRuntimeView.Empty, new Dictionary<string, ContainerWaiting>(), null, null, DateTime.UtcNow);
        Assert.Equal("Burstable", status.QosClass);
        Assert.Equal("Pending", status.Phase);
    }
}
