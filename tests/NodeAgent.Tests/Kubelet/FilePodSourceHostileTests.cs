using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet;

/// <summary>Files that are not manifests, huge files and a directory that disappears never stop the file source
/// or hide the pods of the good files (issue #10); each one is reported once, at Warning or Error.</summary>
public sealed class FilePodSourceHostileTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("kubelet-hostile");
    private readonly CancellationTokenSource _cts = new();
    private readonly ListLogger<FilePodSource> _logger = new();
    private readonly Channel<PodSourceUpdate> _output = Channel.CreateUnbounded<PodSourceUpdate>();
    private readonly List<IDisposable> _resources = [];
    private Task? _run;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        _resources.ForEach(r => r.Dispose());
        _cts.Dispose();
        _dir.Dispose();
    }

    private static string PodYaml(string name) => $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n";

    private void Start(string path, TimeSpan? grace = null)
    {
        var source = new FilePodSource(
            new FilePodSourceOptions
            {
                Files = NodeAgent.Runtime.HostFiles.Instance,
                ManifestPath = path, NodeName = "node1", CheckFrequency = TimeSpan.FromHours(1), Debounce = TimeSpan.FromMilliseconds(20),
                MissingPathGrace = grace ?? TimeSpan.FromMinutes(1),
            },
            _logger,
            TimeProvider.System);
        _run = source.RunAsync(_output.Writer, _cts.Token);
    }

    private async Task<PodSourceUpdate> NextMatching(Func<PodSourceUpdate, bool> predicate, List<PodSourceUpdate>? seen = null)
    {
        while (true)
        {
            var snapshot = await _output.Reader.NextAsync();
            seen?.Add(snapshot);
            if (predicate(snapshot))
            {
                return snapshot;
            }
        }
    }

    private IEnumerable<string> Warnings => _logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message);

    [Fact]
    public async Task FifoSocketDeviceLinkDanglingLinkAndLoopAreSkippedWithOneWarningEach()
    {
        await File.WriteAllTextAsync(_dir.Combine("good.yaml"), PodYaml("good"));
        FileSystemOps.MakeNode(_dir.Combine("fifo.yaml"), FileSystemOps.S_IFIFO | 0x1A4, 0, 0);
        File.CreateSymbolicLink(_dir.Combine("zero.yaml"), "/dev/zero");
        File.CreateSymbolicLink(_dir.Combine("dangling.yaml"), _dir.Combine("nowhere"));
        File.CreateSymbolicLink(_dir.Combine("loop1.yaml"), _dir.Combine("loop2.yaml"));
        File.CreateSymbolicLink(_dir.Combine("loop2.yaml"), _dir.Combine("loop1.yaml"));
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _resources.Add(socket);
        socket.Bind(new UnixDomainSocketEndPoint(_dir.Combine("socket.yaml")));

        Start(_dir.Path);
        Assert.Equal("good-node1", Assert.Single((await _output.Reader.NextAsync()).Pods).Metadata.Name);

        // A later change is still seen: nothing blocked on the FIFO or read /dev/zero forever. (Written under a
        // hidden name and renamed, so no pass reads it half-written.)
        await File.WriteAllTextAsync(_dir.Combine(".other.yaml"), PodYaml("other"));
        File.Move(_dir.Combine(".other.yaml"), _dir.Combine("other.yaml"));
        await NextMatching(u => u.Pods.Count == 2);

        var warnings = Warnings.ToList();
        Assert.Single(warnings, w => w.Contains("fifo.yaml: not a regular file but a FIFO", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("zero.yaml: not a regular file but a character device", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("socket.yaml: not a regular file but a socket", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("dangling.yaml: a dangling symbolic link", StringComparison.Ordinal));
        Assert.Single(warnings, w => w.Contains("loop1.yaml: a symbolic link loop", StringComparison.Ordinal));
        Assert.Empty(_logger.Errors);
    }

    [Fact]
    public async Task AFileLargerThanTheRequestLimitIsRefusedUnreadAndTheOthersStay()
    {
        await File.WriteAllTextAsync(_dir.Combine("good.yaml"), PodYaml("good"));
        await using (var big = File.Create(_dir.Combine("big.yaml")))
        {
            big.SetLength(50L * 1024 * 1024);
        }

        Start(_dir.Path);

        Assert.Equal("good-node1", Assert.Single((await _output.Reader.NextAsync()).Pods).Metadata.Name);
        var error = Assert.Single(_logger.Errors);
        Assert.Contains($"{_dir.Combine("big.yaml")}: the file is larger than 3145728 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnchangedFileIsNotReadAgainButAnInotifyNamedOneIs()
    {
        var a = _dir.Combine("a.yaml");
        await File.WriteAllTextAsync(a, PodYaml("a"));
        Start(_dir.Path);
        Assert.Single((await _output.Reader.NextAsync()).Pods);

        await File.WriteAllTextAsync(_dir.Combine("b.yaml"), PodYaml("b"));
        await NextMatching(u => u.Pods.Count == 2);
        await File.WriteAllTextAsync(_dir.Combine("c.yaml"), PodYaml("c"));
        await NextMatching(u => u.Pods.Count == 3);

        // a.yaml was checked by both rescans but decoded once (size, times and inode unchanged, not named by inotify).
        Assert.Single(_logger.Entries, e => e.Message.Contains($"from {a}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheDirectoryMovedAwayAndBackKeepsEveryPod()
    {
        var path = _dir.Combine("manifests");
        Directory.CreateDirectory(path);
        await File.WriteAllTextAsync(Path.Combine(path, "web.yaml"), PodYaml("web"));
        Start(path);
        var seen = new List<PodSourceUpdate>();
        Assert.Single((await NextMatching(_ => true, seen)).Pods);

        Directory.Move(path, path + ".away");
        Directory.Move(path + ".away", path);
        await File.WriteAllTextAsync(Path.Combine(path, "api.yaml"), PodYaml("api"));

        await NextMatching(u => u.Pods.Count == 2, seen);
        Assert.DoesNotContain(seen, u => u.Pods.Count == 0);
    }

    [Fact]
    public async Task ADirectoryMissingLongerThanTheGraceLosesItsPods()
    {
        var path = _dir.Combine("manifests");
        Directory.CreateDirectory(path);
        await File.WriteAllTextAsync(Path.Combine(path, "web.yaml"), PodYaml("web"));
        Start(path, grace: TimeSpan.Zero);
        Assert.Single((await _output.Reader.NextAsync()).Pods);

        Directory.Delete(path, recursive: true);

        // (Deleting the file before its directory may already give the empty snapshot; the warning says the path went.)
        Assert.Empty((await NextMatching(u => u.Pods.Count == 0)).Pods);
        await _logger.WaitForAsync(e => e.Message.Contains("disappeared", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the missing path's warning");
    }
}
