using NodeAgent.Images;
using NodeAgent.Runtime.Containers;

namespace NodeAgent.Tests.Runtime;

public class EnvironmentBuilderTests
{
    [Fact]
    public void ConfigEnvOverridesImageEnvAndIsNotExpanded()
    {
        var image = new ImageConfig { Env = ["PATH=/bin", "A=image"] };
        var env = EnvironmentBuilder.Build(image, [new("A", "container"), new("B", "$(A)-$$")], "pod1");
        Assert.Contains(new KeyValuePair<string, string>("A", "container"), env);
        Assert.Contains(new KeyValuePair<string, string>("B", "$(A)-$$"), env);
        Assert.Contains(new KeyValuePair<string, string>("HOSTNAME", "pod1"), env);
        Assert.Single(env, kv => kv.Key == "A");
    }

    [Fact]
    public void PathDefaultsWhenTheImageHasNone()
    {
        var env = EnvironmentBuilder.Build(new ImageConfig(), [], "h");
        Assert.Equal("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", env.Single(kv => kv.Key == "PATH").Value);
    }
}
