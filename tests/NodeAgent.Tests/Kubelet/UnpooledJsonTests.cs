using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using NodeAgent.Kubelet;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet;

/// <summary>The unpooled serializer writes exactly KubernetesJson's bytes, so pod UIDs and container hashes do not
/// change with it (a changed hash would restart every running container after an agent upgrade).</summary>
public sealed class UnpooledJsonTests
{
    private static V1Pod RichPod() => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = "web",
            NamespaceProperty = "default",
            CreationTimestamp = new DateTime(2026, 12, 1, 8, 30, 0, 123, DateTimeKind.Utc),
            Annotations = new Dictionary<string, string> { ["note"] = "<b>café</b> & 'x' \"q\"\nline2\u2028", ["empty"] = string.Empty },
            Labels = new Dictionary<string, string> { ["app"] = "web" },
        },
        Spec = new V1PodSpec
        {
            TerminationGracePeriodSeconds = 30,
            Containers =
            [
                new V1Container
                {
                    Name = "main",
                    Image = "localhost/busybox:latest",
                    Command = ["sh", "-c", "echo $(HOME) && sleep 1"],
                    Env = [new V1EnvVar { Name = "BIG", Value = new string('x', 200_000) }, new V1EnvVar { Name = "UNI", Value = "ünïcødé ✓" }],
                    Ports = [new V1ContainerPort { ContainerPort = 8080, Name = "http", Protocol = "TCP" }],
                    Resources = new V1ResourceRequirements
                    {
                        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("500m"), ["memory"] = new("64Mi") },
                    },
                    ReadinessProbe = new V1Probe { HttpGet = new V1HTTPGetAction { Port = "http", Path = "/" } },
                },
            ],
        },
        Status = new V1PodStatus { Phase = "Pending", StartTime = new DateTime(2026, 12, 1, 8, 30, 1, DateTimeKind.Utc) },
    };

    [Fact]
    public void WritesKubernetesJsonsBytes()
    {
        var pod = RichPod();
        Assert.Equal(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(pod)), UnpooledJson.Write(pod).WrittenSpan.ToArray());
        Assert.Equal(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(pod.Spec.Containers[0])), UnpooledJson.Write(pod.Spec.Containers[0]).WrittenSpan.ToArray());
    }

    [Fact]
    public void CloneIsADeepEqualCopy()
    {
        var pod = RichPod();
        var copy = UnpooledJson.Clone(pod);
        Assert.NotSame(pod.Spec, copy.Spec);
        Assert.Equal(KubernetesJson.Serialize(pod), KubernetesJson.Serialize(copy));
        Assert.True(UnpooledJson.SameJson(pod.Spec, copy.Spec));
        copy.Spec.Containers[0].Image = "other";
        Assert.False(UnpooledJson.SameJson(pod.Spec, copy.Spec));
        Assert.True(UnpooledJson.SameJson<V1PodStatus>(null, null));
        Assert.False(UnpooledJson.SameJson(pod.Status, null));
    }

    [Fact]
    public void StaticPodUidsAndContainerHashesKeepTheirRecipe()
    {
        var pod = RichPod();
        var normalizer = new StaticPodNormalizer("Node1", PodSourceNames.File);
        var expectedUid = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(pod) + "host:Node1file:/etc/agent/manifests/web.yaml")));
        Assert.Equal(expectedUid, normalizer.ComputeUid(pod, "/etc/agent/manifests/web.yaml"));

        var container = pod.Spec.Containers[0];
        var expectedHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(container))))[..16];
        Assert.Equal(expectedHash, ContainerConfigFactory.Hash(container));
        Assert.Equal(expectedHash, ContainerConfigFactory.Hash(container));
    }
}
