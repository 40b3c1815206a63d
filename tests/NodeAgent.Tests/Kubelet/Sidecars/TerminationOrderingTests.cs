using NodeAgent.Kubelet.Pods;
using static NodeAgent.Tests.Kubelet.Sidecars.SidecarPods;

namespace NodeAgent.Tests.Kubelet.Sidecars;

/// <summary>kubelet's terminationOrdering: sidecars stop after the regular containers, in reverse order.</summary>
public class TerminationOrderingTests
{
    [Fact]
    public void SidecarsWaitForTheRegularContainersAndTheSidecarsAfterThem()
    {
        var pod = Pod("Always", ["+logs", "migrate", "+proxy"], "app", "worker");
        var ordering = new TerminationOrdering(pod, ["logs", "proxy", "app", "worker"]);
        Assert.Equal(["app", "worker", "proxy"], ordering.WaitsFor("logs"));
        Assert.Equal(["app", "worker"], ordering.WaitsFor("proxy"));
        Assert.Empty(ordering.WaitsFor("app"));
    }

    [Fact]
    public void ContainersNotBeingStoppedHoldNobodyUp()
    {
        var pod = Pod("Always", ["+logs", "+proxy"], "app", "worker");
        var ordering = new TerminationOrdering(pod, ["logs", "app"]);
        Assert.Equal(["app"], ordering.WaitsFor("logs"));
    }

    [Fact]
    public async Task ASidecarsTurnComesWhenTheOthersHaveStopped()
    {
        var pod = Pod("Always", ["+logs", "+proxy"], "app");
        var ordering = new TerminationOrdering(pod, ["logs", "proxy", "app"]);
        var logs = ordering.WaitForTurnAsync("logs", TimeSpan.FromMinutes(5), TimeProvider.System, CancellationToken.None);
        var proxy = ordering.WaitForTurnAsync("proxy", TimeSpan.FromMinutes(5), TimeProvider.System, CancellationToken.None);
        Assert.False(proxy.IsCompleted);
        ordering.Stopped("app");
        await proxy;
        Assert.False(logs.IsCompleted);
        ordering.Stopped("proxy");
        await logs;
    }

    [Fact]
    public async Task TheWaitEndsWithTheGracePeriodEvenIfOthersStillRun()
    {
        var pod = Pod("Always", ["+proxy"], "app");
        var ordering = new TerminationOrdering(pod, ["proxy", "app"]);
        // "app" never stops: the sidecar's turn comes when its (short) grace period is over.
        var waited = await ordering.WaitForTurnAsync("proxy", TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None);
        Assert.True(waited > TimeSpan.Zero);
    }
}
