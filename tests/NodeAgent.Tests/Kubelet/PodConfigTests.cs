using k8s.Models;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>kubelet's podStorage.Merge: per-source snapshots become REMOVE/ADD/UPDATE/DELETE/RECONCILE operations.</summary>
public sealed class PodConfigTests : IAsyncLifetime
{
    private readonly FixedTimeProvider _time = new(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    private readonly CancellationTokenSource _cts = new();
    private readonly PodConfig _config;
    private readonly Task _run;

    public PodConfigTests()
    {
        _config = new PodConfig([PodSourceNames.File, PodSourceNames.Http], new ListLogger<PodConfig>(), _time);
        _run = _config.RunAsync(_cts.Token);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 runs IAsyncLifetime.DisposeAsync after each test; it does not call IAsyncDisposable.
    public async Task DisposeAsync()
    {
        await _cts.CancelAsync();
        await _run;
        _cts.Dispose();
    }

    private static V1Pod Pod(string name, string uid, string image = "busybox:1.36", string? ns = "default") => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Uid = uid, Annotations = new Dictionary<string, string> { ["kubernetes.io/config.hash"] = uid } },
        Spec = new V1PodSpec { Containers = [new V1Container { Name = "app", Image = image }] },
        Status = new V1PodStatus { Phase = "Pending" },
    };

    private async Task Send(string source, params V1Pod[] pods) => await _config.Input.WriteAsync(new PodSourceUpdate(source, pods));

    private async Task<PodUpdate> Next() => await _config.Updates.NextAsync();

    private async Task Synced()
    {
        await Send(PodSourceNames.File);
        await Send(PodSourceNames.Http);
        Assert.Equal(new PodUpdate(PodOperation.Add, "file", []).Op, (await Next()).Op);
        Assert.Equal(PodOperation.Add, (await Next()).Op);
    }

    [Fact]
    public async Task EachSourcesPodsFlowBeforeTheOtherSourcesHaveSynced()
    {
        // kubelet's incremental mode: static pods start while another source (the API server) is still away.
        await Send(PodSourceNames.File, Pod("b-node1", "2"), Pod("a-node1", "1"));
        var file = await Next();
        Assert.Equal(PodOperation.Add, file.Op);
        Assert.Equal("file", file.Source);
        Assert.Equal(["a-node1", "b-node1"], file.Pods.Select(p => p.Metadata.Name));
        Assert.False(_config.SeenAllSources);

        await Send(PodSourceNames.File, Pod("b-node1", "2"), Pod("a-node1", "1"), Pod("c-node1", "3"));
        Assert.Equal(["c-node1"], (await Next()).Pods.Select(p => p.Metadata.Name));
        Assert.False(_config.AllSourcesSeen.IsCompleted);

        await Send(PodSourceNames.Http);

        var http = await Next();
        Assert.Equal(PodOperation.Add, http.Op);
        Assert.Equal("http", http.Source);
        Assert.Empty(http.Pods);
        Assert.True(_config.SeenAllSources);
        Assert.True(_config.AllSourcesSeen.IsCompleted);
    }

    [Fact]
    public async Task NewPodsAreAddedWithSourceAndSeenAnnotations()
    {
        await Synced();

        await Send(PodSourceNames.File, Pod("web-node1", "u1"));

        var add = await Next();
        Assert.Equal(PodOperation.Add, add.Op);
        var pod = Assert.Single(add.Pods);
        Assert.Equal("file", pod.Metadata.Annotations[ConfigAnnotations.Source]);
        Assert.Equal("2026-01-02T03:04:05Z", pod.Metadata.Annotations[ConfigAnnotations.Seen]);
    }

    [Fact]
    public async Task ChangedStaticPodManifestIsRemoveOfOldUidThenAddOfNewUid()
    {
        await Synced();
        await Send(PodSourceNames.File, Pod("web-node1", "old"));
        await Next();

        await Send(PodSourceNames.File, Pod("web-node1", "new", image: "busybox:1.37"));

        var remove = await Next();
        Assert.Equal(PodOperation.Remove, remove.Op);
        Assert.Equal("old", Assert.Single(remove.Pods).Metadata.Uid);
        var add = await Next();
        Assert.Equal(PodOperation.Add, add.Op);
        Assert.Equal("new", Assert.Single(add.Pods).Metadata.Uid);
    }

    [Fact]
    public async Task SpecChangeUnderTheSameUidIsAnUpdateKeepingFirstSeen()
    {
        await Synced();
        await Send(PodSourceNames.File, Pod("web-node1", "u1"));
        await Next();
        _time.Now = _time.Now.AddHours(1);

        await Send(PodSourceNames.File, Pod("web-node1", "u1", image: "busybox:1.37"));

        var update = await Next();
        Assert.Equal(PodOperation.Update, update.Op);
        var pod = Assert.Single(update.Pods);
        Assert.Equal("busybox:1.37", pod.Spec.Containers[0].Image);
        Assert.Equal("2026-01-02T03:04:05Z", pod.Metadata.Annotations[ConfigAnnotations.Seen]);
    }

    [Fact]
    public async Task StatusOnlyChangeIsAReconcile()
    {
        await Synced();
        await Send(PodSourceNames.File, Pod("web-node1", "u1"));
        await Next();
        var changed = Pod("web-node1", "u1");
        changed.Status.Phase = "Running";

        await Send(PodSourceNames.File, changed);

        var reconcile = await Next();
        Assert.Equal(PodOperation.Reconcile, reconcile.Op);
        Assert.Equal("Running", Assert.Single(reconcile.Pods).Status.Phase);
    }

    [Fact]
    public async Task DeletionTimestampIsAGracefulDelete()
    {
        await Synced();
        await Send(PodSourceNames.File, Pod("web-node1", "u1"));
        await Next();
        var deleting = Pod("web-node1", "u1");
        deleting.Metadata.DeletionTimestamp = new DateTime(2026, 1, 2, 3, 5, 0, DateTimeKind.Utc);
        deleting.Metadata.DeletionGracePeriodSeconds = 30;

        await Send(PodSourceNames.File, deleting);

        Assert.Equal(PodOperation.Delete, (await Next()).Op);
    }

    [Fact]
    public async Task PodsGoneFromTheSnapshotAreRemovedAndOtherSourcesKept()
    {
        await Synced();
        await Send(PodSourceNames.File, Pod("a-node1", "1"), Pod("b-node1", "2"));
        await Next();
        await Send(PodSourceNames.Http, Pod("h-node1", "3"));
        await Next();

        await Send(PodSourceNames.File, Pod("b-node1", "2"));

        var remove = await Next();
        Assert.Equal(PodOperation.Remove, remove.Op);
        Assert.Equal("a-node1", Assert.Single(remove.Pods).Metadata.Name);
        Assert.Equal(["b-node1", "h-node1"], _config.GetPods().Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task IdenticalSnapshotEmitsNothingAndUnknownSourcesAreIgnored()
    {
        await Synced();
        await Send(PodSourceNames.File, Pod("a-node1", "1"));
        await Next();

        await Send(PodSourceNames.File, Pod("a-node1", "1"));
        await Send("unknown", Pod("x", "9"));
        await Send(PodSourceNames.Http, Pod("h-node1", "3"));

        var next = await Next();
        Assert.Equal(PodOperation.Add, next.Op);
        Assert.Equal("http", next.Source);
    }

    [Fact]
    public async Task DuplicateNamesInOneSnapshotKeepTheFirst()
    {
        await Synced();

        await Send(PodSourceNames.File, Pod("a-node1", "1"), Pod("a-node1", "2"));

        Assert.Equal("1", Assert.Single((await Next()).Pods).Metadata.Uid);
    }

    [Fact]
    public async Task EmittedPodsAreNotTheSourcesObjects()
    {
        await Synced();
        var pod = Pod("a-node1", "1");

        await Send(PodSourceNames.File, pod);

        var emitted = Assert.Single((await Next()).Pods);
        Assert.NotSame(pod, emitted);
        Assert.False(pod.Metadata.Annotations.ContainsKey(ConfigAnnotations.Seen));
    }
}
