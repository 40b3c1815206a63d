using k8s.Models;
using NodeAgent.Cli.Commands;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;
using static NodeAgent.Tests.Kubelet.Sidecars.SidecarPods;

namespace NodeAgent.Tests.Kubelet.Sidecars;

/// <summary>
/// The status kubelet's generateAPIPodStatus gives a pod with sidecars (initContainerStatuses' started and ready,
/// Initialized, ContainersReady with the sidecars' readiness, the phase by getPhase) and the STATUS and READY
/// columns kubectl's printer computes from it (<c>nodeagent get pods</c> prints them the same).
/// </summary>
public class SidecarStatusTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1Pod Status(V1Pod pod, IReadOnlyDictionary<string, ContainerWaiting>? waiting = null, params ContainerStatus[] attempts)
    {
        pod.Metadata.CreationTimestamp = Now;
        pod.Status = PodStatusBuilder.Build(pod, new PodRuntimeView(Sandbox(), attempts), waiting ?? new Dictionary<string, ContainerWaiting>(), "10.0.0.1", Now, Now);
        return pod;
    }

    private static PodPrinter.Columns Row(V1Pod pod) => PodPrinter.Row(pod, Now);

    private static string Condition(V1Pod pod, string type) => pod.Status.Conditions.Single(c => c.Type == type).Status;

    [Fact]
    public void NothingStartedIsInit0Of2AndEveryContainerWaitsPodInitializing()
    {
        var pod = Status(Pod("Always", ["+proxy", "migrate"]));
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.All(pod.Status.InitContainerStatuses.Concat(pod.Status.ContainerStatuses), s => Assert.Equal("PodInitializing", s.State.Waiting.Reason));
        Assert.Equal("False", Condition(pod, "Initialized"));
        Assert.Equal("containers with incomplete status: [proxy migrate]", pod.Status.Conditions.Single(c => c.Type == "Initialized").Message);
        Assert.Equal(new PodPrinter.Columns("0/2", "Init:0/2", "0", "0s"), Row(pod));
    }

    [Fact]
    public void AStartedSidecarCountsAsInitializedInTheStatusColumn()
    {
        var pod = Status(Pod("Always", ["+proxy", "migrate"]), null, C("proxy", ContainerState.Running), C("migrate", ContainerState.Running));
        var proxy = pod.Status.InitContainerStatuses[0];
        Assert.True(proxy.Started);
        Assert.True(proxy.Ready);
        var migrate = pod.Status.InitContainerStatuses[1];
        Assert.True(migrate.Started);
        Assert.False(migrate.Ready);
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.Equal(new PodPrinter.Columns("1/2", "Init:1/2", "0", "0s"), Row(pod));
    }

    [Fact]
    public void ARunningPodCountsItsReadySidecarsAmongItsContainers()
    {
        var pod = Status(Pod("Always", ["migrate", "+proxy"]), null,
            C("migrate", ContainerState.Exited), C("proxy", ContainerState.Running), C("app", ContainerState.Running));
        Assert.True(pod.Status.InitContainerStatuses[0].Ready);
        Assert.False(pod.Status.InitContainerStatuses[0].Started);
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Equal("True", Condition(pod, "Initialized"));
        Assert.Equal("True", Condition(pod, "Ready"));
        Assert.Equal(new PodPrinter.Columns("2/2", "Running", "0", "0s"), Row(pod));
    }

    [Fact]
    public void RegularContainersWaitPodInitializingOnceInitIsDone()
    {
        var pod = Status(Pod("Always", ["+proxy"]), null, C("proxy", ContainerState.Running));
        Assert.Equal("PodInitializing", pod.Status.ContainerStatuses.Single().State.Waiting.Reason);
        Assert.Equal("True", Condition(pod, "Initialized"));
        Assert.Equal(new PodPrinter.Columns("1/2", "PodInitializing", "0", "0s"), Row(pod));
    }

    [Fact]
    public void ACrashLoopingSidecarBeforeInitializationIsInitCrashLoopBackOff()
    {
        var waiting = new Dictionary<string, ContainerWaiting> { ["proxy"] = new("CrashLoopBackOff", "back-off 10s restarting failed container=proxy pod=p_default(u)") };
        var pod = Status(Pod("Always", ["+proxy", "migrate"]), waiting, C("proxy", ContainerState.Exited, 1, attempt: 1), C("proxy", ContainerState.Exited, 1, attempt: 0));
        var proxy = pod.Status.InitContainerStatuses[0];
        Assert.Equal(1, proxy.RestartCount);
        Assert.Equal(1, proxy.LastState.Terminated.ExitCode);
        Assert.Equal("Pending", pod.Status.Phase);
        var row = Row(pod);
        Assert.Equal("Init:CrashLoopBackOff", row.Status);
        Assert.StartsWith("1 (", row.Restarts, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Error", 1, "Init:Error")]
    [InlineData(null, 3, "Init:ExitCode:3")]
    public void AFailedPlainInitContainerShowsItsReasonOrExitCode(string? reason, int exit, string expected)
    {
        var failed = C("migrate", ContainerState.Exited, exit) with { Reason = reason };
        var pod = Status(Pod("Never", ["+proxy", "migrate"]), null, C("proxy", ContainerState.Running), failed);
        Assert.Equal("Failed", pod.Status.Phase);
        Assert.Equal(expected, Row(pod).Status);
    }

    [Fact]
    public void ANeverPodWhoseRegularContainerFinishedRunsUntilItsSidecarStops()
    {
        var pod = Pod("Never", ["+proxy"]);
        Assert.Equal("Running", Status(pod, null, C("proxy", ContainerState.Running), C("app", ContainerState.Exited)).Status.Phase);
        // Stopped by the kubelet (SIGTERM: 143): a sidecar's exit never fails the pod.
        var done = Status(Pod("Never", ["+proxy"]), null, C("proxy", ContainerState.Exited, 143), C("app", ContainerState.Exited));
        Assert.Equal("Succeeded", done.Status.Phase);
        Assert.Equal("Completed", Row(done).Status);
    }

    [Fact]
    public void AnUnreadySidecarKeepsThePodUnready()
    {
        var pod = Pod("Always", ["+proxy"]);
        pod.Spec.InitContainers[0].ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] } };
        var probes = new NodeAgent.Kubelet.Prober.ProbeManager(new NoProbes(), _ => null, _ => null, new NodeAgent.Tests.Kubelet.Pods.RecordingEvents(new NodeAgent.Kubelet.Events.PodEventLog(Microsoft.Extensions.Logging.Abstractions.NullLogger<NodeAgent.Kubelet.Events.PodEventLog>.Instance, TimeProvider.System)), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<NodeAgent.Kubelet.Prober.ProbeManager>.Instance);
        pod.Status = PodStatusBuilder.Build(pod, new PodRuntimeView(Sandbox(), [C("proxy", ContainerState.Running), C("app", ContainerState.Running)]),
            new Dictionary<string, ContainerWaiting>(), "10.0.0.1", Now, Now, probes);
        Assert.False(pod.Status.InitContainerStatuses[0].Ready);
        Assert.Equal("False", Condition(pod, "Ready"));
        Assert.Equal("containers with unready status: [proxy]", pod.Status.Conditions.Single(c => c.Type == "ContainersReady").Message);
    }

    private sealed class NoProbes : NodeAgent.Kubelet.Prober.IProbeRunner
    {
        public Task<NodeAgent.Kubelet.Prober.ProbeOutcome> RunAsync(NodeAgent.Kubelet.Prober.ProbeTarget target, V1Probe probe, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no probe runs in this test");
    }
}
