using System.Diagnostics;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Events;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.Events;

/// <summary>kubelet's event recording against the test server, observed through an informer and kubectl describe.</summary>
public sealed class EventRecorderTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>, IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private readonly KubeApiConnection _n1 = new(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n1")) with { Qps = 0 });
    private readonly KubeApiConnection _admin = new(KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig) with { Qps = 0 });

    public void Dispose()
    {
        _n1.Dispose();
        _admin.Dispose();
    }

    private ResourceClient<Corev1Event, Corev1EventList> Events(KubeApiConnection c) => new(c, KubeResources.Events);

    private async Task<V1Pod> CreatePod(string name) =>
        await new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods).CreateAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Spec = new V1PodSpec { NodeName = "n1", Containers = [new V1Container { Name = "app", Image = "busybox:1" }] },
        });

    private async Task<Informer<Corev1Event, Corev1EventList>> WatchEvents()
    {
        var informer = new Informer<Corev1Event, Corev1EventList>(Events(_admin));
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        return informer;
    }

    [Fact]
    public async Task RepeatsBecomeACountAndDescribeShowsThem()
    {
        var pod = await CreatePod("evented");
        await using var events = await WatchEvents();
        await using (var recorder = new EventRecorder(Events(_n1), "kubelet", "n1"))
        {
            var reference = EventRecorder.PodReference(pod, "app");
            recorder.Event(reference, "Normal", "Pulled", "Container image \"busybox:1\" already present on machine");
            recorder.Event(reference, "Normal", "Created", "Created container app");
            recorder.Event(reference, "Warning", "BackOff", "Back-off restarting failed container app in pod evented_default");
            recorder.Event(reference, "Warning", "BackOff", "Back-off restarting failed container app in pod evented_default");
            recorder.Event(reference, "Warning", "BackOff", "Back-off restarting failed container app in pod evented_default");
            await events.WaitForAsync(c => c.List().Any(e => e.Reason == "BackOff" && e.Count == 3)).WaitAsync(Patience);
        }
        var mine = events.Cache.List().Where(e => e.InvolvedObject.Name == "evented").ToList();
        Assert.Equal(3, mine.Count);
        var backOff = mine.Single(e => e.Reason == "BackOff");
        Assert.Equal("spec.containers{app}", backOff.InvolvedObject.FieldPath);
        Assert.Equal(pod.Metadata.Uid, backOff.InvolvedObject.Uid);
        Assert.Equal("kubelet", backOff.Source.Component);
        Assert.Equal("n1", backOff.Source.Host);
        Assert.True(backOff.LastTimestamp >= backOff.FirstTimestamp);
        Assert.Null(backOff.Series);

        var describe = await Kubectl.RunAsync(fixture.Server.AdminKubeconfig, "describe pod evented");
        Assert.Matches(@"Warning\s+BackOff\s+\S+ \(x3 over \S+\)\s+kubelet\s+Back-off restarting failed container app", describe.Stdout);
        Assert.Matches(@"Normal\s+Pulled\s+\S+\s+kubelet\s+Container image ""busybox:1"" already present on machine", describe.Stdout);
    }

    [Fact]
    public async Task WithSeriesRepeatsCarryTheEventsV1Series()
    {
        var pod = await CreatePod("serial");
        await using var events = await WatchEvents();
        await using (var recorder = new EventRecorder(Events(_n1), "kubelet", "n1", series: true))
        {
            var reference = EventRecorder.PodReference(pod, "app");
            recorder.Event(reference, "Normal", "Pulled", "once");
            for (var i = 0; i < 3; i++)
            {
                recorder.Event(reference, "Warning", "BackOff", "Back-off restarting failed container app in pod serial_default");
            }
            await events.WaitForAsync(c => c.List().Any(e => e.InvolvedObject.Name == "serial" && e.Series?.Count == 3)).WaitAsync(Patience);
        }
        var mine = events.Cache.List().Where(e => e.InvolvedObject.Name == "serial").ToList();
        var once = mine.Single(e => e.Reason == "Pulled");
        Assert.Null(once.Series);
        Assert.NotNull(once.EventTime);
        Assert.Equal("Pulled", once.Action);
        var backOff = mine.Single(e => e.Reason == "BackOff");
        Assert.Equal(3, backOff.Count);
        Assert.True(backOff.Series.LastObservedTime >= backOff.EventTime);

        // The same event through events.k8s.io/v1: series, and the deprecated fields the core ones map to.
        var v1 = await Kubectl.RunAsync(fixture.Server.AdminKubeconfig, $"get events.v1.events.k8s.io {backOff.Metadata.Name} -o json");
        Assert.True(v1.ExitCode == 0, v1.ToString());
        var json = System.Text.Json.Nodes.JsonNode.Parse(v1.Stdout)!;
        Assert.Equal(3, json["series"]!["count"]!.GetValue<int>());
        Assert.Equal(3, json["deprecatedCount"]!.GetValue<int>());
        Assert.Equal("kubelet", json["reportingController"]!.ToString());
        Assert.Equal("BackOff", json["action"]!.ToString());
    }

    [Fact]
    public async Task SimilarEventsAreCombinedAndAFloodIsCut()
    {
        var pod = await CreatePod("flooded");
        await using var events = await WatchEvents();
        await using (var recorder = new EventRecorder(Events(_n1), "kubelet", "n1"))
        {
            var reference = EventRecorder.PodReference(pod);
            for (var i = 0; i < 12; i++)
            {
                recorder.Event(reference, "Warning", "FailedMount", $"volume v{i} failed");
            }
            // 12 used of the burst of 25; 20 more distinct reasons exhaust it.
            for (var i = 0; i < 20; i++)
            {
                recorder.Event(reference, "Normal", $"Reason{i}", "x");
            }
            // The writer is one FIFO task: once the marker (another object) is stored, everything before it was decided.
            recorder.Event(EventRecorder.NodeReference("n1"), "Normal", "Marker", "done");
            await events.WaitForAsync(c => c.List().Any(e => e.Reason == "Marker")).WaitAsync(Patience);
        }
        var mine = events.Cache.List().Where(e => e.InvolvedObject.Name == "flooded").ToList();
        var failed = mine.Where(e => e.Reason == "FailedMount").ToList();
        Assert.Equal(10, failed.Count);
        var combined = Assert.Single(failed, e => e.Message.StartsWith("(combined from similar events): ", StringComparison.Ordinal));
        Assert.Equal(3, combined.Count);
        Assert.Equal(13, mine.Count(e => e.Reason.StartsWith("Reason", StringComparison.Ordinal)));
        var marker = events.Cache.List().Single(e => e.Reason == "Marker");
        Assert.Equal("default", marker.Metadata.NamespaceProperty);
        Assert.Equal("n1", marker.InvolvedObject.Uid);
    }

    [Fact]
    public async Task AnUnreachableServerNeverBlocksTheCaller()
    {
        var dead = KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig) with { Server = new Uri("https://127.0.0.1:1") };
        using var connection = new KubeApiConnection(dead);
        await using var recorder = new EventRecorder(Events(connection), "kubelet", "n1", capacity: 10, attempts: 1000, retryInterval: TimeSpan.FromMinutes(1));
        var reference = EventRecorder.NodeReference("n1");
        // Event returns without waiting for the server (a caller that waited would hang here on the dead address):
        // what does not fit the bounded queue is dropped and counted.
        for (var i = 0; i < 500; i++)
        {
            recorder.Event(reference, "Normal", $"R{i}", "m");
        }

        Assert.True(recorder.Dropped >= 489, $"only {recorder.Dropped} dropped from a queue of 10");
        Assert.Throws<ArgumentException>(() => recorder.Event(reference, "Fatal", "R", "m"));
    }
}
