using k8s.Models;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Kubelet.Pods;

public class PodStatusBuilderTests
{
    private static readonly DateTime Now = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static V1Pod Pod(string restartPolicy = "Always", params string[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", Uid = "u" },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            Containers = (containers.Length == 0 ? ["app"] : containers).Select(n => new V1Container { Name = n, Image = "busybox" }).ToList(),
        },
    };

    private static ContainerStatus C(string name, ContainerState state, int exit = 0, uint attempt = 0, string? reason = null) =>
        Sidecars.SidecarPods.C(name, state, exit, attempt) with { Reason = reason };

    private static PodSandboxStatus Sandbox() => Sidecars.SidecarPods.Sandbox();

    private static V1PodStatus Build(V1Pod pod, params ContainerStatus[] containers) =>
        PodStatusBuilder.Build(pod, new PodRuntimeView(Sandbox(), containers), new Dictionary<string, ContainerWaiting>(), "10.0.0.1", Now, Now);

    [Fact]
    public void RunningContainerMakesARunningReadyPod()
    {
        var status = Build(Pod(), C("app", ContainerState.Running));
        Assert.Equal("Running", status.Phase);
        Assert.Equal("True", status.Conditions.Single(c => c.Type == "Ready").Status);
        var cs = status.ContainerStatuses.Single();
        Assert.True(cs.Ready);
        Assert.True(cs.Started);
        Assert.NotNull(cs.State.Running);
        Assert.StartsWith("nodeagent://", cs.ContainerID);
        Assert.Equal("BestEffort", status.QosClass);
        Assert.Equal(["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"], status.Conditions.Select(c => c.Type));
    }

    [Fact]
    public void NothingCreatedYetIsPendingContainerCreating()
    {
        var status = Build(Pod());
        Assert.Equal("Pending", status.Phase);
        Assert.Equal("ContainerCreating", status.ContainerStatuses.Single().State.Waiting.Reason);
    }

    [Theory]
    [InlineData("Never", 0, "Succeeded")]
    [InlineData("Never", 1, "Failed")]
    [InlineData("OnFailure", 0, "Succeeded")]
    [InlineData("OnFailure", 1, "Running")]
    [InlineData("Always", 0, "Running")]
    public void PhaseOfFinishedContainersFollowsRestartPolicy(string policy, int exit, string phase) =>
        Assert.Equal(phase, Build(Pod(policy), C("app", ContainerState.Exited, exit)).Phase);

    [Fact]
    public void RestartedContainerReportsLastStateAndCount()
    {
        var status = Build(Pod(), C("app", ContainerState.Exited, 2, 0, "Error"), C("app", ContainerState.Running, attempt: 1));
        var cs = status.ContainerStatuses.Single();
        Assert.Equal(1, cs.RestartCount);
        Assert.NotNull(cs.State.Running);
        Assert.Equal(2, cs.LastState.Terminated.ExitCode);
        Assert.Equal("Error", cs.LastState.Terminated.Reason);
    }

    [Fact]
    public void CrashLoopShowsWaitingWithTheLastTermination()
    {
        var pod = Pod();
        var waiting = new Dictionary<string, ContainerWaiting> { ["app"] = new("CrashLoopBackOff", "back-off 10s restarting failed container=app pod=p_default(u)") };
        var status = PodStatusBuilder.Build(pod, new PodRuntimeView(Sandbox(), [C("app", ContainerState.Exited, 1, 0, "Error")]), waiting, null, Now, Now);
        var cs = status.ContainerStatuses.Single();
        Assert.Equal("CrashLoopBackOff", cs.State.Waiting.Reason);
        Assert.Equal(1, cs.LastState.Terminated.ExitCode);
        Assert.Equal("Running", status.Phase);
        Assert.Equal("False", status.Conditions.Single(c => c.Type == "Ready").Status);
    }

    [Fact]
    public void OomKilledIsReportedAsTheTerminationReason()
    {
        var status = Build(Pod("Never"), C("app", ContainerState.Exited, 137, 0, "OOMKilled"));
        Assert.Equal("OOMKilled", status.ContainerStatuses.Single().State.Terminated.Reason);
        Assert.Equal("Failed", status.Phase);
        Assert.Equal("PodCompleted", status.Conditions.Single(c => c.Type == "Ready").Reason);
    }

    [Fact]
    public void TransitionTimeIsKeptWhileTheStatusHolds()
    {
        var pod = Pod();
        var earlier = Now.AddMinutes(-5);
        pod.Status = new V1PodStatus { Conditions = [new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = earlier }] };
        var status = Build(pod, C("app", ContainerState.Running));
        Assert.Equal(earlier, status.Conditions.Single(c => c.Type == "Ready").LastTransitionTime);
        Assert.Equal(Now, status.Conditions.Single(c => c.Type == "PodScheduled").LastTransitionTime);
    }
}
