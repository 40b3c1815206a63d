using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>The test server's EndpointSlice controller, watched the way the proxy will watch it: through an informer.</summary>
public sealed class EndpointSliceControllerTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private TestApiServerHost _server = null!;
    private string _dir = "";
    private KubeApiConnection _admin = null!;
    private KubeApiConnection _node = null!;

    public async Task InitializeAsync()
    {
        (_server, _dir) = await ApiServerFixture.StartPrivateAsync();
        _admin = new KubeApiConnection(KubeConfigLoader.LoadFile(_server.AdminKubeconfig));
        _node = new KubeApiConnection(KubeConfigLoader.LoadFile(_server.NodeKubeconfig("n1")));
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        _node.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public async Task SlicesFollowPodReadinessAndTermination()
    {
        var services = new ResourceClient<V1Service, V1ServiceList>(_admin, KubeResources.Services);
        var pods = new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods);
        await using var slices = new Informer<V1EndpointSlice, V1EndpointSliceList>(
            new ResourceClient<V1EndpointSlice, V1EndpointSliceList>(_admin, KubeResources.EndpointSlices),
            new InformerOptions { LabelSelector = "kubernetes.io/service-name=web" });
        slices.Start();
        await slices.ReadyAsync().WaitAsync(Patience);

        var svc = await services.CreateAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec
            {
                Selector = new Dictionary<string, string> { ["app"] = "web" },
                Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = "http" }],
            },
        });
        await pods.CreateAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "web-1", NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = "web" } },
            Spec = new V1PodSpec
            {
                NodeName = "n1",
                Containers = [new V1Container { Name = "c", Image = "busybox:1", Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }] }],
            },
        });
        // No IP yet: an empty slice.
        await slices.WaitForAsync(c => c.List().Any(s => s.Endpoints is null or { Count: 0 })).WaitAsync(Patience);

        var nodePods = new ResourceClient<V1Pod, V1PodList>(_node, KubeResources.Pods);
        await nodePods.PatchAsync("default", "web-1", PatchType.StrategicMerge,
            """{"status":{"phase":"Running","podIP":"10.244.0.7","conditions":[{"type":"Ready","status":"True"}]}}""", "status");
        await slices.WaitForAsync(c => c.List().Any(s => s.Endpoints?.Any(e => e.Conditions.Ready == true) == true)).WaitAsync(Patience);
        var slice = Assert.Single(slices.Cache.List());
        var endpoint = Assert.Single(slice.Endpoints);
        Assert.Equal(["10.244.0.7"], endpoint.Addresses);
        Assert.Equal("n1", endpoint.NodeName);
        Assert.Equal("web-1", endpoint.TargetRef.Name);
        Assert.Equal(8080, Assert.Single(slice.Ports).Port);
        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal(svc.Metadata.Uid, Assert.Single(slice.Metadata.OwnerReferences).Uid);

        // Graceful deletion: the endpoint stays, terminating, serving, not ready.
        await pods.DeleteAsync("default", "web-1");
        await slices.WaitForAsync(c => c.List().Any(s => s.Endpoints?.Any(e => e.Conditions.Terminating == true) == true)).WaitAsync(Patience);
        var terminating = Assert.Single(Assert.Single(slices.Cache.List()).Endpoints);
        Assert.False(terminating.Conditions.Ready);
        Assert.True(terminating.Conditions.Serving);

        await services.DeleteAsync("default", "web");
        await slices.WaitForAsync(c => c.Count == 0).WaitAsync(Patience);
    }
}
