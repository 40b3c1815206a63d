using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;
using static NodeAgent.Tests.Kubelet.Sidecars.SidecarPods;

namespace NodeAgent.Tests.Kubelet.Sidecars;

/// <summary>
/// kubelet's computeInitContainerActions with sidecars (1.32): the order init containers and sidecars start in,
/// what waits for what, what is restarted, and when the pod is initialized, done or failed.
/// </summary>
public class InitContainerPlanTests
{
    private static InitContainerPlan Plan(k8s.Models.V1Pod pod, bool started = true, params ContainerStatus[] attempts) =>
        InitContainerPlan.Compute(pod, new PodRuntimeView(Sandbox(), attempts), (_, _) => started, (_, _) => null);

    private static string[] Names(InitContainerPlan plan) => plan.ToStart.Select(c => c.Name).ToArray();

    [Fact]
    public void TheFirstInitContainerStartsFirst()
    {
        var plan = Plan(Pod("Always", ["+proxy", "migrate"]));
        Assert.Equal(["proxy"], Names(plan));
        Assert.False(plan.Initialized);
    }

    [Fact]
    public void AStartedSidecarLetsTheNextInitContainerStartAndKeepsRunning()
    {
        var plan = Plan(Pod("Always", ["+proxy", "migrate"]), true, C("proxy", ContainerState.Running));
        Assert.Equal(["migrate"], Names(plan));
        Assert.False(plan.Initialized);
    }

    [Fact]
    public void ASidecarWhoseStartupProbeHasNotSucceededHoldsTheNextBack()
    {
        var plan = Plan(Pod("Always", ["+proxy", "migrate"]), false, C("proxy", ContainerState.Running));
        Assert.Empty(plan.ToStart);
        Assert.False(plan.Initialized);
    }

    [Fact]
    public void APlainInitContainerMustExitZeroBeforeTheNext()
    {
        var pod = Pod("Always", ["migrate", "+proxy"]);
        Assert.Empty(Plan(pod, true, C("migrate", ContainerState.Running)).ToStart);
        Assert.Equal(["proxy"], Names(Plan(pod, true, C("migrate", ContainerState.Exited, 0))));
        Assert.Equal(["migrate"], Names(Plan(pod, true, C("migrate", ContainerState.Exited, 1))));
    }

    [Fact]
    public void ThePodIsInitializedOnceTheLastSidecarHasStarted()
    {
        var plan = Plan(Pod("Always", ["migrate", "+proxy"]), true, C("migrate", ContainerState.Exited), C("proxy", ContainerState.Running));
        Assert.True(plan.Initialized);
        Assert.Empty(plan.ToStart);
    }

    [Theory]
    [InlineData("Never")]
    [InlineData("OnFailure")]
    [InlineData("Always")]
    public void AnExitedSidecarIsRestartedWhateverThePodsRestartPolicy(string policy)
    {
        var plan = Plan(Pod(policy, ["+proxy"]), true, C("proxy", ContainerState.Exited, 0), C("app", ContainerState.Running));
        Assert.Equal(["proxy"], Names(plan));
        Assert.True(plan.Initialized);
    }

    [Fact]
    public void AnEarlierSidecarThatExitedIsRestartedWhileALaterInitContainerRuns()
    {
        var plan = Plan(Pod("Always", ["+proxy", "migrate"]), true, C("proxy", ContainerState.Exited, 1), C("migrate", ContainerState.Running));
        Assert.Equal(["proxy"], Names(plan));
        Assert.False(plan.Initialized);
    }

    [Fact]
    public void PlainInitContainersNeverRunAgainOnceARegularContainerExists()
    {
        var plan = Plan(Pod("Always", ["migrate", "+proxy"]), true, C("proxy", ContainerState.Running), C("app", ContainerState.Running));
        Assert.Empty(plan.ToStart);
        Assert.True(plan.Initialized);
    }

    [Fact]
    public void AFailedPlainInitContainerFailsANeverPod()
    {
        var plan = Plan(Pod("Never", ["+proxy", "migrate"]), true, C("proxy", ContainerState.Running), C("migrate", ContainerState.Exited, 2));
        Assert.True(plan.Failed);
        Assert.Empty(plan.ToStart);
    }

    [Fact]
    public void ASidecarWhoseProbeFailedIsKilledAndStartedAgain()
    {
        var pod = Pod("Always", ["+proxy"]);
        var running = C("proxy", ContainerState.Running);
        var plan = InitContainerPlan.Compute(pod, new PodRuntimeView(Sandbox(), [running, C("app", ContainerState.Running)]), (_, _) => true,
            (c, r) => new SidecarToKill(c, r, $"Init container {c.Name} failed liveness probe", TimeSpan.FromSeconds(1)));
        var kill = Assert.Single(plan.ToKill);
        Assert.Equal("Init container proxy failed liveness probe", kill.Message);
        Assert.Equal(["proxy"], Names(plan));
    }

    [Theory]
    [InlineData("Never", 1, true)]
    [InlineData("Never", 0, true)]
    [InlineData("OnFailure", 0, true)]
    [InlineData("OnFailure", 1, false)]
    [InlineData("Always", 0, false)]
    public void ThePodIsDoneWhenNoRegularContainerRunsOrWillRunAgain(string policy, int exit, bool done)
    {
        var pod = Pod(policy, ["+proxy"]);
        var view = new PodRuntimeView(Sandbox(), [C("proxy", ContainerState.Running), C("app", ContainerState.Exited, exit)]);
        Assert.Equal(done, InitContainerPlan.RegularContainersDone(pod, view));
    }

    [Fact]
    public void APodWithARunningRegularContainerIsNotDone() =>
        Assert.False(InitContainerPlan.RegularContainersDone(Pod("Never", ["+proxy"], "app", "worker"),
            new PodRuntimeView(Sandbox(), [C("app", ContainerState.Exited), C("worker", ContainerState.Running)])));
}
