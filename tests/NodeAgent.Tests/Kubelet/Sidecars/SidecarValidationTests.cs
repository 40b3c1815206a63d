using k8s.Models;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet.Sidecars;

/// <summary>The API server's validation of restart policies, hooks, probes and stop signals on init and regular
/// containers, field paths and messages as kube-apiserver words them.</summary>
public class SidecarValidationTests
{
    private static V1Pod Pod(Action<V1PodSpec> edit)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1PodSpec
            {
                RestartPolicy = "Always",
                DnsPolicy = "ClusterFirst",
                InitContainers = [new V1Container { Name = "proxy", Image = "busybox", RestartPolicy = "Always" }],
                Containers = [new V1Container { Name = "app", Image = "busybox" }],
            },
        };
        edit(pod.Spec);
        return pod;
    }

    private static IReadOnlyList<string> Errors(Action<V1PodSpec> edit) =>
        PodValidator.Validate(Pod(edit), "node1").Select(e => $"{e.Field}: {e.Reason}").ToList();

    [Fact]
    public void ASidecarWithProbesAndHooksIsValid() => Assert.Empty(Errors(s =>
    {
        s.InitContainers[0].StartupProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] } };
        s.InitContainers[0].ReadinessProbe = new V1Probe { TcpSocket = new V1TCPSocketAction { Port = 80 } };
        s.InitContainers[0].LivenessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] } };
        s.InitContainers[0].Lifecycle = new V1Lifecycle { PreStop = new V1LifecycleHandler { Sleep = new V1SleepAction { Seconds = 1 } } };
    }));

    [Fact]
    public void OnlyAlwaysIsAnInitContainersRestartPolicy() =>
        Assert.Equal(["spec.initContainers[0].restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""],
            Errors(s => s.InitContainers[0].RestartPolicy = "OnFailure"));

    [Fact]
    public void ARegularContainerMayNotSetARestartPolicy() =>
        Assert.Equal(["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"],
            Errors(s => s.Containers[0].RestartPolicy = "Always"));

    [Fact]
    public void APlainInitContainerMayHaveNoProbeAndNoHook() =>
        Assert.Equal(
        [
            "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        ],
        Errors(s =>
        {
            var c = s.InitContainers[0];
            c.RestartPolicy = null;
            c.Lifecycle = new V1Lifecycle { PostStart = new V1LifecycleHandler { Exec = new V1ExecAction { Command = ["true"] } } };
            c.LivenessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] } };
            c.ReadinessProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] } };
            c.StartupProbe = new V1Probe { Exec = new V1ExecAction { Command = ["true"] } };
        }));

    [Fact]
    public void AStopSignalNeedsThePodsOs() =>
        Assert.Equal(["spec.containers[0].lifecycle.stopSignal: Forbidden: may not be set for containers with empty `spec.os.name`"],
            Errors(s => s.Containers[0].Lifecycle = new V1Lifecycle { StopSignal = "SIGUSR1" }));

    [Theory]
    [InlineData("SIGUSR1", true)]
    [InlineData("SIGRTMIN+1", true)]
    [InlineData("SIGRTMAX-14", true)]
    [InlineData("SIGCLD", true)]
    [InlineData("USR1", false)]
    [InlineData("10", false)]
    [InlineData("sigusr1", false)]
    [InlineData("SIGRTMIN+16", false)]
    public void ALinuxStopSignalIsOneOfTheApisSignalNames(string signal, bool valid)
    {
        var errors = Errors(s =>
        {
            s.Os = new V1PodOS { Name = "linux" };
            s.InitContainers[0].Lifecycle = new V1Lifecycle { StopSignal = signal };
        });
        if (valid)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.StartsWith($"spec.initContainers[0].lifecycle.stopSignal: Unsupported value: \"{signal}\": supported values: \"SIGHUP\", \"SIGINT\"", Assert.Single(errors), StringComparison.Ordinal);
        }
    }
}
