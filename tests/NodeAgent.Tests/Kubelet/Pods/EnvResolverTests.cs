using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

public class EnvResolverTests
{
    private static V1Pod Pod(params V1EnvVar[] env) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = "web-node1",
            NamespaceProperty = "default",
            Uid = "u1",
            Labels = new Dictionary<string, string> { ["app"] = "web" },
            Annotations = new Dictionary<string, string> { ["a.io/x"] = "y" },
        },
        Spec = new V1PodSpec
        {
            NodeName = "node1",
            Containers =
            [
                new V1Container
                {
                    Name = "main",
                    Env = env,
                    Resources = new V1ResourceRequirements
                    {
                        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("1500m"), ["memory"] = new("64Mi") },
                        Requests = new Dictionary<string, ResourceQuantity> { ["memory"] = new("32Mi") },
                    },
                },
            ],
        },
    };

    private static V1EnvVar Var(string name, string value) => new() { Name = name, Value = value };

    private static V1EnvVar From(string name, V1EnvVarSource source) => new() { Name = name, ValueFrom = source };

    private static V1EnvVar Field(string name, string path) => From(name, new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = path } });

    private static V1EnvVar Res(string name, string resource, string? divisor = null) =>
        From(name, new V1EnvVarSource { ResourceFieldRef = new V1ResourceFieldSelector { Resource = resource, Divisor = divisor is null ? null : new ResourceQuantity(divisor) } });

    private static Dictionary<string, string> Resolve(V1Pod pod, PodEnvContext? ctx = null) =>
        EnvResolver.Resolve(pod, pod.Spec.Containers[0], ctx ?? new PodEnvContext("192.0.2.10", ["10.88.0.5"])).ToDictionary(kv => kv.Key, kv => kv.Value);

    [Fact]
    public void DownwardApiFieldsAreFilledIn()
    {
        var env = Resolve(Pod(
            Var("PLAIN", "v"),
            Field("NAME", "metadata.name"), Field("NS", "metadata.namespace"), Field("UID", "metadata.uid"),
            Field("APP", "metadata.labels['app']"), Field("ANN", "metadata.annotations['a.io/x']"),
            Field("NODE", "spec.nodeName"), Field("HOST", "status.hostIP"), Field("IP", "status.podIP"), Field("IPS", "status.podIPs")));
        Assert.Equal("v", env["PLAIN"]);
        Assert.Equal("web-node1", env["NAME"]);
        Assert.Equal("default", env["NS"]);
        Assert.Equal("u1", env["UID"]);
        Assert.Equal("web", env["APP"]);
        Assert.Equal("y", env["ANN"]);
        Assert.Equal("node1", env["NODE"]);
        Assert.Equal("192.0.2.10", env["HOST"]);
        Assert.Equal("10.88.0.5", env["IP"]);
        Assert.Equal("10.88.0.5", env["IPS"]);
    }

    [Fact]
    public void HostNetworkPodsSeeTheHostAddressAsTheirs()
    {
        var pod = Pod(Field("IP", "status.podIP"));
        pod.Spec.HostNetwork = true;
        Assert.Equal("192.0.2.10", Resolve(pod)["IP"]);
    }

    [Fact]
    public void ResourcesAreRoundedUpToTheDivisor()
    {
        var env = Resolve(Pod(Res("CPU", "limits.cpu"), Res("CPU_M", "limits.cpu", "1m"), Res("MEM", "limits.memory", "1Mi"), Res("REQ", "requests.memory", "1Mi")));
        Assert.Equal("2", env["CPU"]);
        Assert.Equal("1500", env["CPU_M"]);
        Assert.Equal("64", env["MEM"]);
        Assert.Equal("32", env["REQ"]);
    }

    [Fact]
    public void RequiredSecretsFailClearlyAndOptionalOnesAreLeftOut()
    {
        var required = From("PASS", new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = "password", Name = "db" } });
        var e = Assert.Throws<ContainerConfigException>(() => Resolve(Pod(required)));
        Assert.Equal("env PASS: secret \"db\" key \"password\" cannot be read: static pods have no API server to read secrets from", e.Message);

        var optional = From("OPT", new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Key = "k", Name = "cm", Optional = true } });
        Assert.Empty(Resolve(Pod(optional)));
    }

    [Fact]
    public void UnknownFieldPathsAreRejectedByName()
    {
        var e = Assert.Throws<ContainerConfigException>(() => Resolve(Pod(Field("X", "status.phase"))));
        Assert.Equal("env X: unsupported fieldRef \"status.phase\"", e.Message);
    }
}
