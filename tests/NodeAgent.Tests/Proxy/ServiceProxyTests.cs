using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Proxy;
using NodeAgent.TestApiServer;
using NodeAgent.Tests.Kubelet;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

public class ServiceProxyTests
{
    private readonly ListLogger<ServiceProxyTests> _log = new();

    /// <summary>A proxy mode that records what it was asked to program, and refuses when told to.</summary>
    private sealed class RecordingBackend : IProxyBackend
    {
        public List<(ProxyState State, bool Full)> Calls { get; } = [];

        public int FailuresLeft { get; set; }

        public Task SyncAsync(ProxyState state, bool full, CancellationToken cancellationToken)
        {
            lock (Calls)
            {
                Calls.Add((state, full));
            }
            if (FailuresLeft > 0)
            {
                FailuresLeft--;
                throw new IptablesLikeException("iptables-restore: line 3 failed");
            }
            return Task.CompletedTask;
        }
    }

    private sealed class IptablesLikeException(string message) : IOException(message);

    private ServiceProxy NewProxy(IProxyBackend backend) =>
        new(backend, new ProxyOptions { NodeName = "n1", MinSyncPeriod = TimeSpan.Zero, RetryPeriod = TimeSpan.FromMilliseconds(50) }, _log);

    [Fact]
    public async Task NothingSyncsBeforeBothFirstListsAreIn()
    {
        var backend = new RecordingBackend();
        await using var proxy = NewProxy(backend);
        IInformerHandler<V1Service> services = proxy;
        IInformerHandler<V1EndpointSlice> slices = proxy;

        services.OnAdd(Service("ns", "a", "10.96.0.1", Port("p", 80)));
        proxy.OnServicesSynced();
        slices.OnAdd(Slice("ns", "a", "a-1", [SlicePort("p", 8080)], Ep("10.1.0.2")));

        // The runner has not been started: nothing can have synced, however long one waited.
        Assert.Empty(backend.Calls);

        var synced = proxy.WaitForSyncAsync();
        proxy.OnEndpointSlicesSynced();
        await synced.WaitAsync(TimeSpan.FromSeconds(30));

        var (state, full) = Assert.Single(backend.Calls);
        Assert.True(full);
        var port = Assert.Single(state.Services.Keys);
        Assert.Equal(["10.1.0.2:8080"], state.EndpointsOf(port).Select(e => e.ToString()));
    }

    [Fact]
    public async Task AfterAFailedPartialSyncTheRetryIsFullAndCarriesEveryChange()
    {
        var backend = new RecordingBackend();
        await using var proxy = NewProxy(backend);
        IInformerHandler<V1Service> services = proxy;
        proxy.OnServicesSynced();
        var first = proxy.WaitForSyncAsync();
        proxy.OnEndpointSlicesSynced();
        await first.WaitAsync(TimeSpan.FromSeconds(30));

        backend.FailuresLeft = 1;
        var next = proxy.WaitForSyncAsync();
        services.OnAdd(Service("ns", "b", "10.96.0.2", Port("p", 80)));
        await next.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(3, backend.Calls.Count);
        Assert.False(backend.Calls[1].Full);
        Assert.True(backend.Calls[2].Full);
        Assert.Single(backend.Calls[2].State.Services);
        Assert.Equal(1, proxy.FailedSyncs);
        Assert.Contains(_log.Entries, e => e.Message.Contains("partial sync failed") && e.Message.Contains("next sync is full"));
    }

    [Fact]
    public async Task SyncsAreMeasuredUnderKubeProxysMetricNamesInTheInjectedRegistry()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new ProxyMetrics(registry);
        var backend = new RecordingBackend();
        await using var proxy = new ServiceProxy(backend, new ProxyOptions { NodeName = "n1", MinSyncPeriod = TimeSpan.Zero }, _log, metrics: metrics);
        IInformerHandler<V1Service> services = proxy;
        IInformerHandler<V1EndpointSlice> slices = proxy;
        services.OnAdd(Service("ns", "a", "10.96.0.1", Port("p", 80)));
        proxy.OnServicesSynced();
        proxy.OnEndpointSlicesSynced();
        await proxy.WaitForStateAsync(s => s.Services.Count == 1).WaitAsync(TimeSpan.FromSeconds(30));

        var slice = Slice("ns", "a", "a-1", [SlicePort("p", 8080)], Ep("10.1.0.2"));
        slice.Metadata.Annotations = new Dictionary<string, string> { [EndpointSliceParser.TriggerTimeAnnotation] = DateTimeOffset.UtcNow.AddSeconds(-2).ToString("O") };
        slices.OnAdd(slice);
        await proxy.WaitForStateAsync(s => s.Endpoints.Count == 1).WaitAsync(TimeSpan.FromSeconds(30));

        using var text = new MemoryStream();
        await metrics.WriteAsync(text, CancellationToken.None);
        var exposition = System.Text.Encoding.UTF8.GetString(text.ToArray());
        Assert.Contains("kubeproxy_sync_proxy_rules_duration_seconds_count 2", exposition);
        Assert.Contains("kubeproxy_sync_full_proxy_rules_duration_seconds_count 1", exposition);
        Assert.Contains("kubeproxy_sync_partial_proxy_rules_duration_seconds_count 1", exposition);
        Assert.Contains("kubeproxy_network_programming_duration_seconds_count 1", exposition);
        // The programming latency is at least the two seconds since the trigger.
        Assert.Contains("kubeproxy_network_programming_duration_seconds_bucket{le=\"1\"} 0", exposition);
        Assert.Matches(@"kubeproxy_sync_proxy_rules_last_timestamp_seconds \d", exposition);
        Assert.Contains("le=\"0.001\"", exposition);
    }

    [Fact]
    public async Task ServicesAndSlicesFromTheApiServerReachTheBackend()
    {
        var dir = Directory.CreateTempSubdirectory("nodeagent-proxy-test-").FullName;
        try
        {
            await using var server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = dir, Nodes = ["n1"], RunControllers = false });
            using var admin = new KubeApiConnection(KubeConfigLoader.LoadFile(server.AdminKubeconfig) with { Qps = 0 });
            var svcClient = new ResourceClient<V1Service, V1ServiceList>(admin, KubeResources.Services);
            var sliceClient = new ResourceClient<V1EndpointSlice, V1EndpointSliceList>(admin, KubeResources.EndpointSlices);
            var created = await svcClient.CreateAsync(new V1Service
            {
                Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
                Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80 }] },
            });
            await sliceClient.CreateAsync(Slice("default", "web", "web-1", [SlicePort("http", 8080)], Ep("10.1.0.7", node: "n1")));

            var backend = new RecordingBackend();
            await using var proxy = NewProxy(backend);
            await using var services = new Informer<V1Service, V1ServiceList>(svcClient);
            await using var slices = new Informer<V1EndpointSlice, V1EndpointSliceList>(sliceClient);
            using var stop = new CancellationTokenSource();
            var synced = proxy.WaitForSyncAsync();
            var run = proxy.RunAsync(services, slices, stop.Token);
            await synced.WaitAsync(TimeSpan.FromSeconds(30));

            var state = proxy.LastState!;
            var web = state.Services.Values.Single(s => s.Name.Service.Name == "web");
            Assert.Equal(created.Spec.ClusterIP, web.ClusterIP.ToString());
            var ep = Assert.Single(state.EndpointsOf(web.Name));
            Assert.True(ep.IsLocal);

            // A new endpoint arrives through the watch and is synced partially.
            await sliceClient.CreateAsync(Slice("default", "web", "web-2", [SlicePort("http", 8080)], Ep("10.1.0.8", node: "n2")));
            await proxy.WaitForStateAsync(s => s.EndpointsOf(web.Name).Count == 2).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(2, proxy.LastState!.EndpointsOf(web.Name).Count);
            Assert.Contains(new ServiceName("default", "web"), proxy.LastState.Changed);
            Assert.False(backend.Calls[^1].Full);

            await stop.CancelAsync();
            await run;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
