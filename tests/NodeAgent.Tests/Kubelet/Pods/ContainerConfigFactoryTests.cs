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
}
