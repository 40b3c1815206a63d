using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kubelet.Node;
using NodeAgent.Tests.Agent;

namespace NodeAgent.Tests.Kubelet.Node;

/// <summary>The Node's spec.podCIDR as the pod network's range, read with the node's own credential.</summary>
public sealed class NodePodCidrTests : IAsyncLifetime
{
    private ApiCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await ApiCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private static bool Valid(string cidr) => cidr.StartsWith("10.", StringComparison.Ordinal) && cidr.EndsWith("/24", StringComparison.Ordinal);

    [Fact]
    public async Task ANodesPodCidrIsReadAndAMissingOrHostileOneIsExplained()
    {
        using var node = new NodeAgent.Kube.Http.KubeApiConnection(NodeAgent.Kube.Config.KubeConfigLoader.LoadFile(_cluster.NodeKubeconfig));
        var (cidr, why) = await NodePodCidr.ReadAsync(node, ApiCluster.NodeName, TimeSpan.FromSeconds(10), Valid, CancellationToken.None);
        Assert.Null(cidr);
        Assert.Equal("node node1 is not registered yet", why);

        var nodes = new ResourceClient<V1Node, V1NodeList>(_cluster.Admin, KubeResources.Nodes);
        await nodes.CreateAsync(new V1Node { ApiVersion = "v1", Kind = "Node", Metadata = new V1ObjectMeta { Name = ApiCluster.NodeName }, Spec = new V1NodeSpec { PodCIDR = "10.66.3.0/24" } });
        (cidr, why) = await NodePodCidr.ReadAsync(node, ApiCluster.NodeName, TimeSpan.FromSeconds(10), Valid, CancellationToken.None);
        Assert.Equal(("10.66.3.0/24", (string?)null), (cidr, why));

        await nodes.PatchAsync(null, ApiCluster.NodeName, PatchType.JsonMerge, """{"spec":{"podCIDR":"fd00::/64"}}""");
        (cidr, why) = await NodePodCidr.ReadAsync(node, ApiCluster.NodeName, TimeSpan.FromSeconds(10), Valid, CancellationToken.None);
        Assert.Null(cidr);
        Assert.Contains("spec.podCIDR \"fd00::/64\" is not an IPv4 CIDR", why, StringComparison.Ordinal);
    }
}
