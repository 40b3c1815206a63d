using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>Grace periods from specs and (hostile) labels saturate into what a timer accepts and never throw.</summary>
public sealed class GracePeriodsTests
{
    [Theory]
    [InlineData(0L, 0.0)]
    [InlineData(-5L, 0.0)]
    [InlineData(30L, 30.0)]
    [InlineData(315360000L, -1.0)]
    [InlineData(2147483647L, -1.0)]
    [InlineData(long.MaxValue, -1.0)]
    public void SecondsSaturate(long seconds, double expected)
    {
        var grace = GracePeriods.FromSeconds(seconds);
        Assert.Equal(expected < 0 ? GracePeriods.MaxTimer : TimeSpan.FromSeconds(expected), grace);
        // What the runtime does with it: a timer of that length must be accepted.
        using var timer = TimeProvider.System.CreateTimer(_ => { }, null, grace, Timeout.InfiniteTimeSpan);
    }

    [Theory]
    [InlineData("9223372036854775807", -1.0)]
    [InlineData("99999999999999999999999", -1.0)]
    [InlineData("garbage", 30.0)]
    [InlineData("", 30.0)]
    [InlineData(null, 30.0)]
    [InlineData("-1", 0.0)]
    [InlineData("12", 12.0)]
    public void LabelsAreParsedAsHostileInput(string? label, double expected)
    {
        Assert.Equal(expected < 0 ? GracePeriods.MaxTimer : TimeSpan.FromSeconds(expected), GracePeriods.FromLabel(label));
        var container = new ContainerStatus
        {
            Id = "c", SandboxId = "s", Name = "main", Image = "x", ImageId = "", LogPath = "", State = ContainerState.Running,
            Labels = label is null ? new Dictionary<string, string>() : new Dictionary<string, string> { [ContainerConfigFactory.GracePeriodLabel] = label },
        };
        Assert.Equal(GracePeriods.FromLabel(label), OrphanPodKiller.Grace(container));
    }

    [Fact]
    public void ADeletionGracePeriodShorterThanTheSpecsWins()
    {
        var pod = new V1Pod { Metadata = new V1ObjectMeta { DeletionGracePeriodSeconds = 3 }, Spec = new V1PodSpec { TerminationGracePeriodSeconds = long.MaxValue } };
        Assert.Equal(TimeSpan.FromSeconds(3), GracePeriods.For(pod));
        Assert.Equal(GracePeriods.MaxTimer, PodSyncer.GracePeriod(new V1Pod { Spec = new V1PodSpec { TerminationGracePeriodSeconds = long.MaxValue } }));
        Assert.Equal(TimeSpan.FromSeconds(30), GracePeriods.For(new V1Pod { Spec = new V1PodSpec() }));
    }
}
