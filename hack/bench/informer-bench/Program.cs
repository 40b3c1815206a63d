using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.TestApiServer;
using NodeAgent.TestApiServer.Storage;

// Informer benchmark (hack/bench/informer): 10,000 pods listed into an informer's cache against
// `kubectl get pods -A -o json > /dev/null` from the same test server, then watch-event latency at 100 changes/s.
var pods = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 10000;
var runs = 5;
var dir = Directory.CreateTempSubdirectory("nodeagent-informer-bench-").FullName;
await using var server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = dir, RunControllers = false, HistoryLimit = 100000 });
try
{
    var time = TimeProvider.System;
    for (var i = 0; i < pods; i++)
    {
        var ns = $"ns{i % 10}";
        if (i < 10)
        {
            server.Store.Write("namespaces", "", ns, (_, _) => new StoreChange.Put(Obj($$$$"""{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"{{{{ns}}}}","uid":"{{{{Guid.NewGuid()}}}}"}}""")));
        }
        var name = $"pod-{i:D5}";
        server.Store.Write("pods", ns, name, (_, _) => new StoreChange.Put(Obj($$$$"""
            {"kind":"Pod","apiVersion":"v1","metadata":{"name":"{{{{name}}}}","namespace":"{{{{ns}}}}","uid":"{{{{Guid.NewGuid()}}}}","creationTimestamp":"2026-01-01T00:00:00Z","labels":{"app":"bench","i":"{{{{i}}}}"}},
             "spec":{"nodeName":"node{{{{i % 50}}}}","containers":[{"name":"app","image":"registry.local/app:1","ports":[{"containerPort":8080}],"env":[{"name":"A","value":"1"}],"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}],
                     "restartPolicy":"Always","dnsPolicy":"ClusterFirst","terminationGracePeriodSeconds":30,"schedulerName":"default-scheduler"},
             "status":{"phase":"Running","podIP":"10.244.{{{{i / 250}}}}.{{{{i % 250}}}}","qosClass":"Burstable","conditions":[{"type":"Ready","status":"True"}],
                       "containerStatuses":[{"name":"app","ready":true,"restartCount":0,"image":"registry.local/app:1","imageID":"sha256:00","containerID":"nodeagent://{{{{i}}}}","state":{"running":{"startedAt":"2026-01-01T00:00:01Z"}}}]}}
            """)));
    }
    var config = KubeConfigLoader.LoadFile(server.AdminKubeconfig) with { Qps = 0 };

    // kubectl: the same list, decoded and printed as JSON to /dev/null.
    var kubectl = new List<double>();
    for (var r = 0; r < runs; r++)
    {
        var sw = Stopwatch.StartNew();
        var info = new ProcessStartInfo("sh", ["-c", "kubectl get pods -A -o json > /dev/null"]) { UseShellExecute = false };
        info.Environment["KUBECONFIG"] = server.AdminKubeconfig;
        info.Environment["KUBECACHEDIR"] = Path.Combine(dir, "cache");
        using var p = Process.Start(info)!;
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException("kubectl failed");
        }
        kubectl.Add(sw.Elapsed.TotalMilliseconds);
    }

    var informerTimes = new List<double>();
    long perPod = 0;
    for (var r = 0; r < runs; r++)
    {
        using var connection = new KubeApiConnection(config);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        await using var informer = new Informer<V1Pod, V1PodList>(new ResourceClient<V1Pod, V1PodList>(connection, KubeResources.Pods))
            .AddIndexer(InformerIndexers.Namespace, InformerIndexers.ByNamespace)
            .AddIndexer(InformerIndexers.NodeName, InformerIndexers.PodByNodeName);
        informer.Start();
        await informer.ReadyAsync();
        informerTimes.Add(sw.Elapsed.TotalMilliseconds);
        var after = GC.GetTotalMemory(true);
        if (r == 0)
        {
            // Only the first run: later ones start with the previous informer still referenced by this method's state.
            perPod = (after - before) / pods;
        }
        if (informer.Cache.Count != pods)
        {
            throw new InvalidOperationException($"cache holds {informer.Cache.Count} pods, not {pods}");
        }
    }

    // Watch latency: 1,000 changes at 100/s, each stamped with its send time.
    var latencies = new List<double>();
    var done = new TaskCompletionSource();
    const int changes = 1000;
    using (var connection = new KubeApiConnection(config))
    {
        var client = new ResourceClient<V1Pod, V1PodList>(connection, KubeResources.Pods);
        var handler = new LatencyHandler(latencies, changes, done);
        await using var informer = new Informer<V1Pod, V1PodList>(client, new InformerOptions { Namespace = "ns0" }).AddHandler(handler);
        informer.Start();
        await informer.ReadyAsync();
        handler.Armed = true;
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        for (var i = 0; i < changes; i++)
        {
            await tick.WaitForNextTickAsync();
            var stamp = Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture);
            await client.PatchAsync("ns0", $"pod-{(i % 1000) * 10:D5}", PatchType.JsonMerge, $$$$"""{"metadata":{"annotations":{"sent":"{{{{stamp}}}}"}}}""");
        }
        await done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
    double Pct(List<double> v, double p) => v.Order().ElementAt(Math.Min(v.Count - 1, (int)Math.Ceiling(p / 100 * v.Count) - 1));
    Console.WriteLine($"pods: {pods}, runs: {runs}");
    Console.WriteLine($"informer list to ReadyAsync p50: {Median(informerTimes):F0} ms (runs: {string.Join(", ", informerTimes.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))})");
    Console.WriteLine($"memory per cached pod: {perPod} bytes");
    Console.WriteLine($"kubectl get pods -A -o json p50: {Median(kubectl):F0} ms (runs: {string.Join(", ", kubectl.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))})");
    Console.WriteLine($"watch delivery latency at 100 changes/s: p50 {Pct(latencies, 50):F2} ms, p99 {Pct(latencies, 99):F2} ms ({latencies.Count} events)");
    Console.WriteLine($"ratio: {Median(informerTimes) / Median(kubectl):F2}");
}
finally
{
    await server.StopAsync();
    Directory.Delete(dir, true);
}

static JsonObject Obj(string json) => JsonNode.Parse(json)!.AsObject();

sealed class LatencyHandler(List<double> latencies, int expected, TaskCompletionSource done) : IInformerHandler<V1Pod>
{
    public bool Armed { get; set; }

    public void OnAdd(V1Pod obj) { }

    public void OnUpdate(V1Pod oldObj, V1Pod newObj)
    {
        if (!Armed || newObj.Metadata.Annotations?.TryGetValue("sent", out var sent) != true)
        {
            return;
        }
        var ms = Stopwatch.GetElapsedTime(long.Parse(sent!, CultureInfo.InvariantCulture)).TotalMilliseconds;
        lock (latencies)
        {
            latencies.Add(ms);
            if (latencies.Count >= expected)
            {
                done.TrySetResult();
            }
        }
    }

    public void OnDelete(V1Pod obj) { }
}
