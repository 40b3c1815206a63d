using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.Informers;

/// <summary>The informer against the test server: first list, watch, 410 relist, dropped connections, restarts, a slow consumer, selectors, indexers, resync.</summary>
public sealed class InformerTests : IAsyncLifetime
{
    private TestApiServerHost _server = null!;
    private string _dir = "";
    private KubeApiConnection _admin = null!;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public async Task InitializeAsync()
    {
        (_server, _dir) = await ApiServerFixture.StartPrivateAsync(bookmarkInterval: TimeSpan.FromMilliseconds(200), historyLimit: 100000);
        _admin = new KubeApiConnection(KubeConfigLoader.LoadFile(_server.AdminKubeconfig) with { Qps = 0 });
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private ResourceClient<V1ConfigMap, V1ConfigMapList> ConfigMaps(KubeApiConnection? c = null) => new(c ?? _admin, KubeResources.ConfigMaps);

    /// <summary>
    /// The test's own writes right after a server restart: a connection of their own. On the shared one, a POST may
    /// go out on a pooled connection the old server closed and fail with "the response ended prematurely"
    /// (SocketsHttpHandler replays only requests whose body it has not sent), which is the test's doing, not the
    /// informer's; the informer keeps the shared connection, whose survival is what these tests check.
    /// </summary>
    private KubeApiConnection FreshWriter() => new(KubeConfigLoader.LoadFile(_server.AdminKubeconfig) with { Qps = 0 });
    private ResourceClient<V1Pod, V1PodList> Pods => new(_admin, KubeResources.Pods);

    private static V1ConfigMap Cm(string ns, string name, string value) =>
        new() { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Data = new Dictionary<string, string> { ["v"] = value } };

    private static InformerOptions Fast => new() { InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(500) };

    private async Task<Dictionary<string, string>> FreshList()
    {
        var list = await ConfigMaps().ListAsync(null);
        return list.Items.ToDictionary(InformerCache<V1ConfigMap>.KeyOf, c => c.Metadata.ResourceVersion);
    }

    private static Dictionary<string, string> CacheView(Informer<V1ConfigMap, V1ConfigMapList> informer) =>
        informer.Cache.List().ToDictionary(InformerCache<V1ConfigMap>.KeyOf, c => c.Metadata.ResourceVersion);

    private static async Task Converge(Informer<V1ConfigMap, V1ConfigMapList> informer, Dictionary<string, string> expected)
    {
        await informer.WaitForAsync(c => c.Count == expected.Count && c.List().All(o => expected.GetValueOrDefault(InformerCache<V1ConfigMap>.KeyOf(o)) == o.Metadata.ResourceVersion))
            .WaitAsync(Patience);
    }

    [Fact]
    public async Task ReadyAfterTheFirstPagedListThenFollowsTheWatch()
    {
        for (var i = 0; i < 25; i++)
        {
            await ConfigMaps().CreateAsync(Cm("default", $"c{i}", "0"));
        }
        var handler = new RecordingHandler<V1ConfigMap>();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast with { PageSize = 10 })
            .AddIndexer(InformerIndexers.Namespace, InformerIndexers.ByNamespace)
            .AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        Assert.Equal(25, informer.Cache.Count);
        Assert.Equal(25, informer.Cache.ByIndex(InformerIndexers.Namespace, "default").Count);

        await ConfigMaps().PatchAsync("default", "c3", PatchType.JsonMerge, "{\"data\":{\"v\":\"1\"}}");
        await ConfigMaps().DeleteAsync("default", "c4");
        await ConfigMaps().CreateAsync(Cm("kube-system", "new", "x"));
        await Converge(informer, await FreshList());
        Assert.Equal("1", informer.Cache.Get("default", "c3")!.Data["v"]);
        Assert.Single(informer.Cache.ByIndex(InformerIndexers.Namespace, "kube-system"));
        Assert.Equal(1, informer.ListCount);
        await WaitHandler(handler, await FreshList());
        Assert.Empty(handler.Violations);
        Assert.Equal(26, handler.Adds);
        Assert.Equal(1, handler.Deletes);
    }

    private static Task WaitHandler(RecordingHandler<V1ConfigMap> handler, Dictionary<string, string> expected) =>
        handler.WaitForAsync(h => h.Matches(expected), Patience);

    [Fact]
    public async Task AnExpiredVersionForcesARelistThatDeliversWhatWasMissed()
    {
        var handler = new RecordingHandler<V1ConfigMap>();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast).AddHandler(handler);
        await ConfigMaps().CreateAsync(Cm("default", "keep", "0"));
        await ConfigMaps().CreateAsync(Cm("default", "doomed", "0"));
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);

        // Changes the informer cannot see (the server is down), then the history it would resume from is compacted.
        var port = _server.Url.Port;
        await _server.DisposeAsync();
        _server.Store.Write("configmaps", "default", "doomed", (_, _) => new NodeAgent.TestApiServer.Storage.StoreChange.Remove());
        _server.Store.Compact();
        _server = await TestApiServerHost.StartAsync(_server.Options with { Port = port }, _server.Pki, _server.Store, _server.AdminToken);
        using (var writer = FreshWriter())
        {
            await ConfigMaps(writer).CreateAsync(Cm("default", "born", "0"));
        }

        await Converge(informer, await FreshList());
        Assert.True(informer.ListCount >= 2, "no relist after 410");
        await WaitHandler(handler, await FreshList());
        Assert.Empty(handler.Violations);
    }

    [Fact]
    public async Task SurvivesAServerRestartAndDroppedConnections()
    {
        var handler = new RecordingHandler<V1ConfigMap>();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast).AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        await ConfigMaps().CreateAsync(Cm("default", "a", "0"));
        await Converge(informer, await FreshList());

        _server.Store.CloseAllWatches();
        await ConfigMaps().CreateAsync(Cm("default", "b", "0"));
        await Converge(informer, await FreshList());

        var port = _server.Url.Port;
        await _server.DisposeAsync();
        // Written while the server is down: nothing; then it comes back over the same store.
        _server.Store.Write("configmaps", "default", "offline", (_, _) => new NodeAgent.TestApiServer.Storage.StoreChange.Put(
            System.Text.Json.Nodes.JsonNode.Parse("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"offline","namespace":"default","uid":"u1","creationTimestamp":"2026-01-01T00:00:00Z"}}""")!.AsObject()));
        _server = await TestApiServerHost.StartAsync(_server.Options with { Port = port }, _server.Pki, _server.Store, _server.AdminToken);
        using (var writer = FreshWriter())
        {
            await ConfigMaps(writer).CreateAsync(Cm("default", "c", "0"));
        }
        await Converge(informer, await FreshList());
        Assert.NotNull(informer.Cache.Get("default", "offline"));
        Assert.Equal(1, informer.ListCount);
        await WaitHandler(handler, await FreshList());
        Assert.Empty(handler.Violations);
    }

    [Fact]
    public async Task AThousandRandomChangesNeitherMissedNorDuplicated()
    {
        var handler = new RecordingHandler<V1ConfigMap>();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast with { PageSize = 50 })
            .AddIndexer(InformerIndexers.Namespace, InformerIndexers.ByNamespace)
            .AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        var random = new Random(11);
        var namespaces = new[] { "default", "kube-system", "kube-public" };
        var live = new HashSet<(string, string)>();
        for (var i = 0; i < 1000; i++)
        {
            var ns = namespaces[random.Next(namespaces.Length)];
            var name = $"cm{random.Next(60)}";
            if (!live.Contains((ns, name)))
            {
                await ConfigMaps().CreateAsync(Cm(ns, name, i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                live.Add((ns, name));
            }
            else if (random.Next(3) == 0)
            {
                await ConfigMaps().DeleteAsync(ns, name);
                live.Remove((ns, name));
            }
            else
            {
                await ConfigMaps().PatchAsync(ns, name, PatchType.StrategicMerge, $"{{\"data\":{{\"v\":\"{i}\"}}}}");
            }
            // Disruptions on the way: dropped watches, and once an expired history.
            if (i % 150 == 149)
            {
                _server.Store.CloseAllWatches();
            }
            if (i == 600)
            {
                _server.Store.CloseAllWatches();
                _server.Store.Compact();
            }
        }
        var fresh = await FreshList();
        Assert.Equal(live.Count, fresh.Count);
        await Converge(informer, fresh);
        Assert.Equal(fresh.OrderBy(kv => kv.Key), CacheView(informer).OrderBy(kv => kv.Key));
        foreach (var ns in namespaces)
        {
            Assert.Equal(fresh.Keys.Count(k => k.StartsWith(ns + "/", StringComparison.Ordinal)), informer.Cache.ByIndex(InformerIndexers.Namespace, ns).Count);
        }
        await WaitHandler(handler, fresh);
        Assert.Empty(handler.Violations);
    }

    [Fact]
    public async Task AFieldSelectedInformerSeesPodsLeaveAndEnterItsNode()
    {
        var handler = new RecordingHandler<V1Pod>();
        await using var informer = new Informer<V1Pod, V1PodList>(Pods, Fast with { FieldSelector = "spec.nodeName=n1" })
            .AddIndexer(InformerIndexers.NodeName, InformerIndexers.PodByNodeName)
            .AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        V1Pod Pod(string name, string? node) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Image = "busybox:1" }] },
        };
        await Pods.CreateAsync(Pod("mine", "n1"));
        await Pods.CreateAsync(Pod("theirs", "n2"));
        await Pods.CreateAsync(Pod("pending", null));
        await informer.WaitForAsync(c => c.Get("default", "mine") is not null).WaitAsync(Patience);
        Assert.Single(informer.Cache.ByIndex(InformerIndexers.NodeName, "n1"));
        await Pods.DeleteAsync("default", "mine", new DeleteOptions { GracePeriodSeconds = 0 });
        await informer.WaitForAsync(c => c.Count == 0).WaitAsync(Patience);
        Assert.Null(informer.Cache.Get("default", "theirs"));
        Assert.Empty(handler.Violations);
    }

    [Fact]
    public async Task BookmarksAdvanceTheVersionWithoutChangesOfItsOwnType()
    {
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        var before = long.Parse(informer.LastSyncResourceVersion, System.Globalization.CultureInfo.InvariantCulture);
        var pod = await Pods.CreateAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "other-type", NamespaceProperty = "default" },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = "busybox:1" }] },
        });
        var target = long.Parse(pod.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(target > before);
        await informer.WaitForAsync(_ => long.Parse(informer.LastSyncResourceVersion, System.Globalization.CultureInfo.InvariantCulture) >= target).WaitAsync(Patience);
    }

    [Fact]
    public async Task ResyncHandsEveryObjectOverAgain()
    {
        await ConfigMaps().CreateAsync(Cm("default", "r1", "0"));
        await ConfigMaps().CreateAsync(Cm("default", "r2", "0"));
        var handler = new RecordingHandler<V1ConfigMap>();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast with { ResyncPeriod = TimeSpan.FromMilliseconds(100) }).AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        await handler.WaitForAsync(h => h.Resyncs >= 4, Patience);
        Assert.Empty(handler.Violations);
    }

    private sealed class BlockingHandler(RecordingHandler<V1ConfigMap> inner, SemaphoreSlim gate) : IInformerHandler<V1ConfigMap>
    {
        public void OnAdd(V1ConfigMap obj) { gate.Wait(); gate.Release(); inner.OnAdd(obj); }
        public void OnUpdate(V1ConfigMap oldObj, V1ConfigMap newObj) { gate.Wait(); gate.Release(); inner.OnUpdate(oldObj, newObj); }
        public void OnDelete(V1ConfigMap obj) { gate.Wait(); gate.Release(); inner.OnDelete(obj); }
    }

    [Fact]
    public async Task ASlowConsumerTheServerDropsResumesWithoutLoss()
    {
        // A server that closes any watch more than 4 events behind, and bursts written straight into its store.
        await _server.DisposeAsync();
        _admin.Dispose();
        _server = await TestApiServerHost.StartAsync(_server.Options with { Port = 0, WatcherCapacity = 4 });
        _admin = new KubeApiConnection(KubeConfigLoader.LoadFile(_server.AdminKubeconfig) with { Qps = 0 });
        var handler = new RecordingHandler<V1ConfigMap>();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast).AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        for (var round = 0; round < 20 && _server.Store.SlowWatchersDropped == 0; round++)
        {
            for (var i = 0; i < 100; i++)
            {
                var name = $"burst{i}";
                var value = $"{round}";
                _server.Store.Write("configmaps", "default", name, (current, _) =>
                {
                    var obj = current ?? System.Text.Json.Nodes.JsonNode.Parse($$$"""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"{{{name}}}","namespace":"default","uid":"{{{Guid.NewGuid()}}}","creationTimestamp":"2026-01-01T00:00:00Z"}}""")!.AsObject();
                    obj["data"] = new System.Text.Json.Nodes.JsonObject { ["v"] = value };
                    return new NodeAgent.TestApiServer.Storage.StoreChange.Put(obj);
                });
            }
            await Converge(informer, await FreshList());
        }
        Assert.True(_server.Store.SlowWatchersDropped > 0, "no burst outran the watch");
        await ConfigMaps().CreateAsync(Cm("default", "after", "0"));
        var fresh = await FreshList();
        await Converge(informer, fresh);
        Assert.Equal(fresh.OrderBy(kv => kv.Key), CacheView(informer).OrderBy(kv => kv.Key));
        await WaitHandler(handler, fresh);
        Assert.Empty(handler.Violations);
    }

    [Fact]
    public async Task ASlowHandlerDelaysOnlyItsOwnNotifications()
    {
        var recording = new RecordingHandler<V1ConfigMap>();
        using var gate = new SemaphoreSlim(0);
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast).AddHandler(new BlockingHandler(recording, gate));
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        for (var i = 0; i < 200; i++)
        {
            await ConfigMaps().CreateAsync(Cm("default", $"slow{i % 40}-{i / 40}", "0"));
        }
        // The cache keeps up while the handler is stuck on its first notification.
        await Converge(informer, await FreshList());
        Assert.Empty(recording.Snapshot());
        gate.Release();
        await WaitHandler(recording, await FreshList());
        Assert.Empty(recording.Violations);
    }

    [Fact]
    public async Task AMalformedObjectCostsABackoffNotTheInformer()
    {
        // An object without metadata.name, as a broken server might send: the informer must refuse it and keep trying.
        _server.Store.Write("configmaps", "default", "broken", (_, _) => new NodeAgent.TestApiServer.Storage.StoreChange.Put(
            System.Text.Json.Nodes.JsonNode.Parse("""{"kind":"ConfigMap","apiVersion":"v1","metadata":{"namespace":"default"}}""")!.AsObject()));
        var logger = new ListLogger();
        await using var informer = new Informer<V1ConfigMap, V1ConfigMapList>(ConfigMaps(), Fast, logger);
        informer.Start();
        await logger.WaitForAsync(m => m.Contains("list failed") && m.Contains("without metadata.name")).WaitAsync(Patience);
        Assert.False(informer.ReadyAsync().IsCompleted);
        _server.Store.Write("configmaps", "default", "broken", (_, _) => new NodeAgent.TestApiServer.Storage.StoreChange.Remove());
        await ConfigMaps().CreateAsync(Cm("default", "fine", "1"));
        await informer.ReadyAsync().WaitAsync(Patience);
        await Converge(informer, await FreshList());
    }
}

