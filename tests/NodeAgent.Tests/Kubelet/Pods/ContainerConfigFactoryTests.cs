using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>kubelet's generateContainerConfig: $(VAR) expansion happens here, before the runtime is called.</summary>
public class ContainerConfigFactoryTests
{
    private static V1Pod Pod(V1Container container) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "u1" },
        Spec = new V1PodSpec { Containers = [container] },
    };

    [Fact]
    public void CommandArgsAndEnvAreExpandedFromTheContainersEnvironment()
    {
        var container = new V1Container
        {
            Name = "main",
            Image = "busybox",
            Command = ["sh", "-c"],
            Args = ["echo $(GREETING) $$(GREETING) $$ $(UNSET)"],
            Env =
            [
                new V1EnvVar { Name = "WHO", Value = "world" },
                new V1EnvVar { Name = "GREETING", Value = "hello-$(WHO)" },
                new V1EnvVar { Name = "LATER", Value = "$(AFTER)" },
                new V1EnvVar { Name = "AFTER", Value = "x" },
            ],
        };
        var config = ContainerConfigFactory.Create(Pod(container), container, 0);

        Assert.Equal(["sh", "-c"], config.Command);
        // kubelet: a defined variable is replaced, $$ escapes, an unknown reference is kept as written.
        Assert.Equal(["echo hello-world $(GREETING) $ $(UNSET)"], config.Args);
        Assert.Contains(new KeyValuePair<string, string>("GREETING", "hello-world"), config.Env);
        // Only variables defined earlier in the list are visible to a value.
        Assert.Contains(new KeyValuePair<string, string>("LATER", "$(AFTER)"), config.Env);
    }

    [Fact]
    public void DownwardApiValuesAreVisibleToLaterValuesButNotExpandedThemselves()
    {
        var container = new V1Container
        {
            Name = "main",
            Image = "busybox",
            Env =
            [
                new V1EnvVar { Name = "NS", ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } } },
                new V1EnvVar { Name = "WHERE", Value = "in-$(NS)" },
            ],
        };
        var config = ContainerConfigFactory.Create(Pod(container), container, 0);
        Assert.Contains(new KeyValuePair<string, string>("WHERE", "in-default"), config.Env);
    }

    [Fact]
    public void SecurityContextMergesAsKubeletDoes()
    {
        // kubelet: the container's runAsUser/runAsGroup/runAsNonRoot win over the pod's; fsGroup then
        // supplementalGroups become the supplemental groups.
        var container = new V1Container { Name = "main", Image = "busybox", SecurityContext = new V1SecurityContext { RunAsUser = 2000, RunAsNonRoot = false } };
        var pod = Pod(container);
        pod.Spec.SecurityContext = new V1PodSecurityContext { RunAsUser = 1000, RunAsGroup = 3000, RunAsNonRoot = true, FsGroup = 5000, SupplementalGroups = [4000, 6000] };
        var security = ContainerConfigFactory.Create(pod, container, 0).Security;
        Assert.Equal((2000L, 3000L, false), (security.RunAsUser, security.RunAsGroup, security.RunAsNonRoot));
        Assert.Equal([5000L, 4000L, 6000L], security.SupplementalGroups);
        container.SecurityContext = null;
        Assert.True(ContainerConfigFactory.Create(pod, container, 0).Security.RunAsNonRoot);
    }

    [Fact]
    public void AnUnmaskedProcMountIsAConfigError()
    {
        var container = new V1Container { Name = "main", Image = "busybox", SecurityContext = new V1SecurityContext { ProcMount = "Unmasked" } };
        var ex = Assert.Throws<ContainerConfigException>(() => ContainerConfigFactory.Create(Pod(container), container, 0));
        Assert.Contains("procMount Unmasked needs a user namespace", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SandboxesCarryThePodsSysctlsDotted()
    {
        var pod = Pod(new V1Container { Name = "main", Image = "busybox" });
        pod.Spec.SecurityContext = new V1PodSecurityContext { Sysctls = [new V1Sysctl { Name = "net/ipv4/conf/eth0.100/rp_filter", Value = "1" }, new V1Sysctl { Name = "kernel.shm_rmid_forced", Value = "1" }] };
        var sandbox = new PodSandboxFactory("/var/log/pods").Create(pod, 0);
        Assert.Equal("1", sandbox.Sysctls["net.ipv4.conf.eth0/100.rp_filter"]);
        Assert.Equal("1", sandbox.Sysctls["kernel.shm_rmid_forced"]);
    }
}
