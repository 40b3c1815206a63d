using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>Node health as the node lifecycle controller keeps it (grace shortened from 40 s to 1 s for the test).</summary>
public sealed class NodeLifecycleControllerTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private TestApiServerHost _server = null!;
    private string _dir = "";
    private KubeApiConnection _node = null!;

    public async Task InitializeAsync()
    {
        (_server, _dir) = await ApiServerFixture.StartPrivateAsync(nodeGrace: TimeSpan.FromSeconds(1));
        _node = new KubeApiConnection(KubeConfigLoader.LoadFile(_server.NodeKubeconfig("n1")));
    }

    public async Task DisposeAsync()
    {
        _node.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private static bool Has(V1Node n, string key, string effect) => n.Spec?.Taints?.Any(t => t.Key == key && t.Effect == effect) == true;

    [Fact]
    public async Task ASilentNodeTurnsUnknownAndTaintedAndRecoversWhenItPostsAgain()
    {
        var nodes = new ResourceClient<V1Node, V1NodeList>(_node, KubeResources.Nodes);
        var created = await nodes.CreateAsync(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "n1" },
            Status = new V1NodeStatus { Conditions = [new V1NodeCondition { Type = "Ready", Status = "True", Reason = "KubeletReady", Message = "kubelet is posting ready status", LastHeartbeatTime = DateTime.UtcNow }] },
        });
        var leases = new ResourceClient<V1Lease, V1LeaseList>(_node, KubeResources.Leases);
        await leases.CreateAsync(new V1Lease
        {
            Metadata = new V1ObjectMeta
            {
                Name = "n1",
                NamespaceProperty = "kube-node-lease",
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = "n1", Uid = created.Metadata.Uid }],
            },
            Spec = new V1LeaseSpec { HolderIdentity = "n1", LeaseDurationSeconds = 40, RenewTime = DateTime.UtcNow },
        });

        await using var informer = new Informer<V1Node, V1NodeList>(nodes);
        informer.Start();
        await informer.WaitForAsync(c => c.Get(null, "n1") is { } n && n.Status.Conditions.Single(x => x.Type == "Ready").Status == "Unknown"
            && Has(n, "node.kubernetes.io/unreachable", "NoSchedule") && Has(n, "node.kubernetes.io/unreachable", "NoExecute")).WaitAsync(Patience);
        var ready = informer.Cache.Get(null, "n1")!.Status.Conditions.Single(x => x.Type == "Ready");
        Assert.Equal("NodeStatusUnknown", ready.Reason);
        Assert.Equal("Kubelet stopped posting node status.", ready.Message);

        // The kubelet posts again (status patch, as kubelet does): Ready, and the controller lifts its taints.
        await nodes.PatchAsync(null, "n1", PatchType.StrategicMerge,
            $$$"""{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status","lastHeartbeatTime":"{{{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}}}"}]}}""", "status");
        await informer.WaitForAsync(c => c.Get(null, "n1") is { } n && n.Status.Conditions.Single(x => x.Type == "Ready").Status == "True"
            && !Has(n, "node.kubernetes.io/unreachable", "NoSchedule") && !Has(n, "node.kubernetes.io/unreachable", "NoExecute")).WaitAsync(Patience);

        // NotReady posted by the kubelet itself gives the not-ready taints.
        await nodes.PatchAsync(null, "n1", PatchType.StrategicMerge,
            """{"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady","message":"container runtime is down"}]}}""", "status");
        await informer.WaitForAsync(c => c.Get(null, "n1") is { } n && Has(n, "node.kubernetes.io/not-ready", "NoExecute")).WaitAsync(Patience);
    }
}
