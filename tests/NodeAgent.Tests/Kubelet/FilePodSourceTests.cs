using System.Threading.Channels;
using NodeAgent.Kubelet.Config;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet;

/// <summary>kubelet's file source on a real directory with real inotify (the periodic resync is set to an hour).</summary>
public sealed class FilePodSourceTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("kubelet-file");
    private readonly CancellationTokenSource _cts = new();
    private readonly ListLogger<FilePodSource> _logger = new();
    private readonly Channel<PodSourceUpdate> _output = Channel.CreateUnbounded<PodSourceUpdate>();
    private FilePodSource? _source;
    private Task? _run;

    public Task InitializeAsync() => Task.CompletedTask;

    // xunit 2 runs IAsyncLifetime.DisposeAsync after each test; it does not call IAsyncDisposable.
    public async Task DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        _cts.Dispose();
        _dir.Dispose();
    }

    private static string PodYaml(string name, string image = "busybox:1.36") => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          containers:
          - name: app
            image: {image}
        """;

    private FilePodSource Start(string? path = null, int debounceMs = 50, TimeSpan? checkFrequency = null)
    {
        _source = new FilePodSource(
            new FilePodSourceOptions { Files = NodeAgent.Runtime.HostFiles.Instance, ManifestPath = path ?? _dir.Path, NodeName = "node1", CheckFrequency = checkFrequency ?? TimeSpan.FromHours(1), Debounce = TimeSpan.FromMilliseconds(debounceMs) },
            _logger,
            TimeProvider.System);
        _run = _source.RunAsync(_output.Writer, _cts.Token);
        return _source;
    }

    private Task<PodSourceUpdate> Next() => _output.Reader.NextAsync();

    /// <summary>The next snapshot satisfying <paramref name="predicate"/>: an in-place write may be seen half-done first.</summary>
    private async Task<PodSourceUpdate> NextMatching(Func<PodSourceUpdate, bool> predicate)
    {
        while (true)
        {
            var snapshot = await Next();
            if (predicate(snapshot))
            {
                return snapshot;
            }
        }
    }

    private static async Task WriteAtomicallyAsync(string path, string content)
    {
        // As editors and config managers do: a dotfile renamed into place.
        var tmp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        await File.WriteAllTextAsync(tmp, content);
        File.Move(tmp, path, overwrite: true);
    }

    [Fact]
    public async Task EmptyDirectoryYieldsAnEmptySnapshot()
    {
        Start();

        var snapshot = await Next();

        Assert.Equal("file", snapshot.Source);
        Assert.Empty(snapshot.Pods);
    }

    [Fact]
    public async Task WriteEditDeleteAreSeenThroughInotify()
    {
        Start();
        Assert.Empty((await Next()).Pods);
        var file = _dir.Combine("web.yaml");

        await WriteAtomicallyAsync(file, PodYaml("web"));
        var added = Assert.Single((await Next()).Pods);
        Assert.Equal("web-node1", added.Metadata.Name);

        await File.WriteAllTextAsync(file, PodYaml("web", "busybox:1.37"));
        var edited = Assert.Single((await NextMatching(u => u.Pods.Count == 1)).Pods);
        Assert.Equal("busybox:1.37", edited.Spec.Containers[0].Image);
        Assert.NotEqual(added.Metadata.Uid, edited.Metadata.Uid);

        File.Delete(file);
        Assert.Empty((await Next()).Pods);
    }

    [Fact]
    public async Task DotfilesSubdirectoriesAreIgnoredJsonAndMultiDocumentAreRead()
    {
        await File.WriteAllTextAsync(_dir.Combine(".hidden.yaml"), PodYaml("hidden"));
        Directory.CreateDirectory(_dir.Combine("sub"));
        await File.WriteAllTextAsync(_dir.Combine("sub", "nested.yaml"), PodYaml("nested"));
        await File.WriteAllTextAsync(_dir.Combine("b.yaml"), PodYaml("one") + "\n---\n" + PodYaml("two"));
        await File.WriteAllTextAsync(_dir.Combine("a.json"), """{"apiVersion":"v1","kind":"Pod","metadata":{"name":"json"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}""");
        Start();

        var snapshot = await Next();

        Assert.Equal(["json-node1", "one-node1", "two-node1"], snapshot.Pods.Select(p => p.Metadata.Name));
        Assert.Empty(_logger.Errors);
    }

    [Fact]
    public async Task ABadFileNeverStopsTheOthersAndIsReportedOncePerChange()
    {
        await File.WriteAllTextAsync(_dir.Combine("bad.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n");
        await File.WriteAllTextAsync(_dir.Combine("good.yaml"), PodYaml("good"));
        var source = Start();

        Assert.Equal("good-node1", Assert.Single((await Next()).Pods).Metadata.Name);
        await WriteAtomicallyAsync(_dir.Combine("good.yaml"), PodYaml("good", "busybox:1.37"));
        Assert.Equal("busybox:1.37", Assert.Single((await Next()).Pods).Spec.Containers[0].Image);

        var error = Assert.Single(_logger.Errors);
        Assert.Contains(_dir.Combine("bad.yaml") + ":6:15: pod \"bad\": spec.containers: Required value", error, StringComparison.Ordinal);
        Assert.Single(source.CurrentErrors);

        await WriteAtomicallyAsync(_dir.Combine("bad.yaml"), PodYaml("bad").Replace("busybox:1.36", "\"\"", StringComparison.Ordinal));
        await WriteAtomicallyAsync(_dir.Combine("good.yaml"), PodYaml("good", "busybox:1.38"));
        await Next();
        Assert.Equal(2, _logger.Errors.Count());
        Assert.Contains("spec.containers[0].image: Required value", _logger.Errors.Last(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABurstOfWritesEndsInOneSnapshotWithEveryFile()
    {
        // Asserts on the content of the final snapshot, not on how many snapshots a loaded machine's clock allowed.
        Start(debounceMs: 300);
        Assert.Empty((await Next()).Pods);

        for (var i = 0; i < 20; i++)
        {
            await WriteAtomicallyAsync(_dir.Combine($"pod{i:D2}.yaml"), PodYaml($"pod{i:D2}"));
        }

        var snapshot = await NextMatching(u => u.Pods.Count == 20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"pod{i:D2}-node1"), snapshot.Pods.Select(p => p.Metadata.Name));
    }

    [Fact]
    public async Task PeriodicResyncSeesChangesInotifyCannotAndDoesNotRepeatErrors()
    {
        // A manifest symlinked from elsewhere: writes to its target raise no event in the manifest directory.
        using var elsewhere = new TempDir("kubelet-target");
        var target = elsewhere.Combine("web.yaml");
        await File.WriteAllTextAsync(target, PodYaml("web"));
        File.CreateSymbolicLink(_dir.Combine("web.yaml"), target);
        await File.WriteAllTextAsync(_dir.Combine("bad.yaml"), "kind: Pod\n");
        Start(checkFrequency: TimeSpan.FromMilliseconds(100));
        Assert.Equal("busybox:1.36", Assert.Single((await Next()).Pods).Spec.Containers[0].Image);

        await File.WriteAllTextAsync(target, PodYaml("web", "busybox:1.37"));
        Assert.Equal("busybox:1.37", Assert.Single((await NextMatching(u => u.Pods.Count == 1)).Pods).Spec.Containers[0].Image);
        await File.WriteAllTextAsync(target, PodYaml("web", "busybox:1.38"));
        Assert.Equal("busybox:1.38", Assert.Single((await NextMatching(u => u.Pods.Count == 1 && u.Pods[0].Spec.Containers[0].Image == "busybox:1.38")).Pods).Spec.Containers[0].Image);

        var error = Assert.Single(_logger.Errors);
        Assert.Contains("bad.yaml: apiVersion: Required value", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingDirectoryIsReportedAndWatchedUntilItAppears()
    {
        var path = _dir.Combine("manifests");
        Start(path);

        Assert.Empty((await Next()).Pods);
        Assert.Contains(_logger.Entries, e => e.Message.Contains("does not exist", StringComparison.Ordinal) && e.Message.Contains(path, StringComparison.Ordinal));

        Directory.CreateDirectory(path);
        await WriteAtomicallyAsync(Path.Combine(path, "web.yaml"), PodYaml("web"));

        PodSourceUpdate snapshot;
        do
        {
            snapshot = await Next();
        }
        while (snapshot.Pods.Count == 0);

        Assert.Equal("web-node1", Assert.Single(snapshot.Pods).Metadata.Name);
    }

    [Fact]
    public async Task ASingleManifestFileCanBeTheManifestPath()
    {
        var file = _dir.Combine("only.yaml");
        await File.WriteAllTextAsync(file, PodYaml("only"));
        Start(file);

        Assert.Equal("only-node1", Assert.Single((await Next()).Pods).Metadata.Name);

        await File.WriteAllTextAsync(file, PodYaml("only", "busybox:1.37"));
        Assert.Equal("busybox:1.37", Assert.Single((await NextMatching(u => u.Pods.Count == 1)).Pods).Spec.Containers[0].Image);
    }

    [Fact]
    public async Task FileSourceFeedsPodConfigAddReplaceRemove()
    {
        var config = new PodConfig([PodSourceNames.File], new ListLogger<PodConfig>(), TimeProvider.System);
        var merge = config.RunAsync(_cts.Token);
        _source = new FilePodSource(
            new FilePodSourceOptions { Files = NodeAgent.Runtime.HostFiles.Instance, ManifestPath = _dir.Path, NodeName = "node1", CheckFrequency = TimeSpan.FromHours(1), Debounce = TimeSpan.FromMilliseconds(50) },
            _logger,
            TimeProvider.System);
        _run = _source.RunAsync(config.Input, _cts.Token);

        Assert.Empty((await config.Updates.NextAsync()).Pods);

        var file = _dir.Combine("web.yaml");
        await WriteAtomicallyAsync(file, PodYaml("web"));
        var add = await config.Updates.NextAsync();
        Assert.Equal(PodOperation.Add, add.Op);
        var uid = Assert.Single(add.Pods).Metadata.Uid;

        await WriteAtomicallyAsync(file, PodYaml("web", "busybox:1.37"));
        var remove = await config.Updates.NextAsync();
        Assert.Equal(PodOperation.Remove, remove.Op);
        Assert.Equal(uid, Assert.Single(remove.Pods).Metadata.Uid);
        var replaced = await config.Updates.NextAsync();
        Assert.Equal(PodOperation.Add, replaced.Op);
        Assert.NotEqual(uid, Assert.Single(replaced.Pods).Metadata.Uid);

        File.Delete(file);
        var gone = await config.Updates.NextAsync();
        Assert.Equal(PodOperation.Remove, gone.Op);

        await _cts.CancelAsync();
        await merge;
    }
}
