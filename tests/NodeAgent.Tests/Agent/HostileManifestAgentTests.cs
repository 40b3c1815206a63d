using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using NodeAgent.Kubelet.Config;
using NodeAgent.Linux;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #10 against the real daemon: about 400 hostile files (a seeded <see cref="ManifestFuzzer"/> run, the whole
/// broken-manifest corpus, and files that are not manifests at all: a FIFO, a link to /dev/zero, dangling links, a
/// link loop, a socket, a 4 MiB file) written in batches beside a canary pod. After each batch the agent has named
/// every rejected file, the canary runs on in the same container, and every loop is alive; once the files are gone
/// no pod and no sandbox of theirs is left. And a hostIP carrying iptables rule text never reaches the node's rules.
/// </summary>
[Collection("agent")]
public sealed class HostileManifestAgentTests(ITestOutputHelper output) : IAsyncLifetime
{
    // Accepted fuzz cases name an image on a closed local port: their pulls fail at once, never on the network.
    private const string Unreachable = "127.0.0.1:1/absent:1";
    private const int FuzzCases = 330;
    private const int BatchSize = 50;

    private static readonly string CorpusDir = Path.Combine(AppContext.BaseDirectory, "Kubelet", "Corpus");

    private AgentNode _node = null!;
    private readonly List<Socket> _sockets = [];
    private string? _netns;

    public Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _node = new AgentNode();
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        _sockets.ForEach(s => s.Dispose());
        if (_netns is not null)
        {
            // The bridge, the veths and every NAT rule the agent wrote live in this namespace and go with it.
            Run("ip", "netns", "del", _netns);
        }
    }

    /// <summary>A pod that runs until SIGTERM; <paramref name="ports"/> are YAML lines at the container's indentation.</summary>
    private static string LongRunning(string name, string ports = "") => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          terminationGracePeriodSeconds: 5
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]

        """ + ports;

    /// <summary>One hostile directory entry: how to make it, and the phrase its log line must carry besides its path
    /// (null: the decoder decides whether it is rejected, and then any line naming it will do).</summary>
    private sealed record HostileFile(string Name, Action<string> Create, string? Phrase, byte[]? Content = null);

    [PrivilegedFact]
    public async Task FourHundredHostileFilesStopNothingButThemselves()
    {
        File.WriteAllText(_node.Manifests.Combine("0000-canary.yaml"), LongRunning("canary"));
        var agent = await StartAsync(null);
        await agent.WaitForEventAsync("canary-node1", "Started");
        await agent.WaitForPhaseAsync("canary-node1", "Running");
        var canaryId = (await agent.PodAsync("canary-node1"))!.Status.ContainerStatuses.Single().ContainerID;
        var baselineRss = agent.RssKiB();

        var cases = HostileFiles();
        var decoder = new PodManifestDecoder("node1", PodSourceNames.File);
        var rejected = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        for (var b = 0; b * BatchSize < cases.Count; b++)
        {
            var expect = new List<(string Path, string? Phrase)>();
            foreach (var c in cases.Skip(b * BatchSize).Take(BatchSize))
            {
                var path = _node.Manifests.Combine(c.Name);
                c.Create(path);
                if (c.Phrase is not null)
                {
                    expect.Add((path, c.Phrase));
                }
                else if (c.Content!.Length > ManifestLimits.MaxManifestBytes || decoder.Decode(path, Encoding.UTF8.GetString(c.Content)).Errors.Count > 0)
                {
                    expect.Add((path, null));
                }
            }

            // Every rejected file of the batch is named, with its reason for the files that are not manifests.
            foreach (var (path, phrase) in expect)
            {
                await agent.WaitForLogAsync(l => l.Contains(path, StringComparison.Ordinal) && (phrase is null || l.Contains(phrase, StringComparison.Ordinal)), timeoutSeconds: 120);
            }

            rejected.AddRange(expect.Select(e => e.Path));
            await AssertUnharmedAsync(agent, canaryId, $"batch {b + 1}");
        }

        var loadedRss = agent.RssKiB();
        output.WriteLine($"{cases.Count} hostile files in {(cases.Count + BatchSize - 1) / BatchSize} batches, {rejected.Count} rejected and named, in {stopwatch.Elapsed.TotalSeconds:F1} s");

        // The valid one with a byte-order mark runs; the named cases of the issue are all among the rejected files.
        await agent.WaitForPhaseAsync("bom-node1", "Running");
        foreach (var named in new[] { "corpus-alias-bomb.yaml", "corpus-null-container.yaml", "corpus-quantity-dots.yaml", "corpus-grace-period-huge.yaml",
            "corpus-name-newline.yaml", "corpus-uid-traversal.yaml", "corpus-hostip-injection.yaml", "fifo.yaml", "zero.yaml", "socket.yaml", "huge.yaml" })
        {
            Assert.Contains(_node.Manifests.Combine(named), rejected);
        }

        // Every hostile file goes: the pods some of them made are stopped, and nothing of theirs is left.
        var hostile = (await agent.PodsAsync()).Where(p => p.Metadata.Name is not ("canary-node1" or "bom-node1")).ToList();
        output.WriteLine($"pods accepted from hostile files: {string.Join(", ", hostile.Select(p => $"{p.Metadata.Name} ({p.Status.Phase})"))}");
        foreach (var c in cases.Where(c => c.Name != "bom.yaml"))
        {
            File.Delete(_node.Manifests.Combine(c.Name));
        }

        var trimsBefore = agent.Count(IsTrimCheck);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        while (hostile.Count > 0)
        {
            foreach (var pod in hostile)
            {
                Assert.True(removed.Add(pod.Metadata.Uid), $"pod {pod.Metadata.Name} still listed after it was stopped and removed");
                await agent.WaitForLogAsync(l => l.Contains($"({pod.Metadata.Uid}): stopped and removed", StringComparison.Ordinal), timeoutSeconds: 120);
            }

            // A pod of the last batch may have been admitted after the listing above: wait for its removal too.
            hostile = (await agent.PodsAsync()).Where(p => p.Metadata.Name is not ("canary-node1" or "bom-node1")).ToList();
        }

        // The wave of removals ends in a heap check (and a trim when the heap grew): memory comes back.
        var checks = 0;
        if (removed.Count > 0)
        {
            await agent.WaitForLogAsync(l => IsTrimCheck(l) && ++checks > trimsBefore);
        }

        var afterRss = agent.RssKiB();

        await AssertUnharmedAsync(agent, canaryId, "after removal");
        var left = await agent.PodsAsync();
        Assert.Equal(["bom-node1", "canary-node1"], left.Select(p => p.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.All(left, p => Assert.Equal("Running", p.Status.Phase));
        Assert.Equal(["bom-node1", "canary-node1"], _node.Rt.Open().ListPodSandboxes().Select(s => s.Config.Name).Order(StringComparer.Ordinal));
        var logDirs = Directory.GetDirectories(_node.Rt.Logs).Select(Path.GetFileName).ToList();
        Assert.Equal(2, logDirs.Count);
        Assert.All(logDirs, d => Assert.Matches("^default_(canary|bom)-node1_", d!));
        var memory = $"agent RSS: {baselineRss / 1024} MiB with the canary, {loadedRss / 1024} MiB with every hostile file, {afterRss / 1024} MiB after their removal; {stopwatch.Elapsed.TotalSeconds:F1} s in all; "
            + string.Join("; ", agent.Lines.Where(IsTrimCheck));
        output.WriteLine(memory);
    }

    private static bool IsTrimCheck(string line) => line.Contains("pods removed: heap ", StringComparison.Ordinal);

    [PrivilegedFact]
    public async Task AHostIpCarryingRuleTextIsRejectedAndNeverReachesIptables()
    {
        _netns = "nodeagent-e2e-" + Guid.NewGuid().ToString("N")[..8];
        Run("ip", "netns", "add", _netns);
        Run("ip", "-n", _netns, "link", "set", "lo", "up");
        var agent = await StartAsync(_netns, "--network-plugin", "bridge", "--pod-cidr", "10.78.0.0/24");
        File.WriteAllText(_node.Manifests.Combine("web.yaml"), LongRunning("web", "    ports: [{containerPort: 8080, hostPort: 18081}]\n"));
        var injection = _node.Manifests.Combine("inject.yaml");
        File.WriteAllText(injection, LongRunning("inject", """
                ports:
                - containerPort: 8080
                  hostPort: 18082
                  hostIP: "10.9.9.9\n-A OUTPUT -m comment --comment INJECTED -j ACCEPT\n#"

            """));

        var rejected = await agent.WaitForLogAsync(l => l.Contains(injection, StringComparison.Ordinal));
        Assert.Contains("spec.containers[0].ports[0].hostIP: Invalid value", rejected, StringComparison.Ordinal);
        Assert.Contains("must be a valid IP address", rejected, StringComparison.Ordinal);
        await agent.WaitForPhaseAsync("web-node1", "Running");
        Assert.Equal(["web-node1"], (await agent.PodsAsync()).Select(p => p.Metadata.Name));

        // The good pod's hostPort rule is there (this is the table the agent writes), and nothing of the injection.
        var nat = Run("nsenter", $"--net=/var/run/netns/{_netns}", "iptables-save", "-t", "nat");
        Assert.Contains("18081", nat, StringComparison.Ordinal);
        Assert.DoesNotContain("INJECTED", nat, StringComparison.Ordinal);
        Assert.DoesNotContain("18082", nat, StringComparison.Ordinal);
        var filter = Run("nsenter", $"--net=/var/run/netns/{_netns}", "iptables-save");
        Assert.DoesNotContain("INJECTED", filter, StringComparison.Ordinal);
    }

    private Task<AgentProcess> StartAsync(string? netns, params string[] extra) => _node.StartAsync(netns, null, extra);

    /// <summary>The canary runs in the same container, never restarted; /healthz is ok, /pods answers, no loop ended.</summary>
    private static async Task AssertUnharmedAsync(AgentProcess agent, string canaryId, string when)
    {
        var (status, body) = await agent.GetAsync("/pods");
        Assert.True(status == 200, $"{when}: /pods answered {status}: {body}");
        var canary = KubernetesJson.Deserialize<V1PodList>(body).Items.SingleOrDefault(p => p.Metadata.Name == "canary-node1");
        Assert.True(canary is not null, $"{when}: the canary is gone");
        Assert.Equal("Running", canary.Status.Phase);
        var container = canary.Status.ContainerStatuses.Single();
        Assert.Equal(canaryId, container.ContainerID);
        Assert.Equal(0, container.RestartCount);
        Assert.NotNull(container.State.Running);
        Assert.Equal((200, "ok"), await agent.GetAsync("/healthz"));
        var failed = agent.Lines.Where(l => l.Contains("loop failed", StringComparison.Ordinal) || l.Contains("pod worker failed", StringComparison.Ordinal)).ToList();
        Assert.True(failed.Count == 0, $"{when}: {string.Join('\n', failed)}");
    }

    private List<HostileFile> HostileFiles()
    {
        var files = new List<HostileFile>();
        var fuzzer = new ManifestFuzzer(20261202, Unreachable);
        for (var i = 0; i < FuzzCases; i++)
        {
            var (content, _) = fuzzer.Next();
            files.Add(Bytes($"fuzz-{i:D3}.yaml", content));
        }

        // The broken-manifest corpus (every case the issue names, each rejected with its reason); its few good pods
        // name the unreachable image too.
        foreach (var path in Directory.GetFiles(CorpusDir).Where(p => Path.GetFileName(p) != "bom.yaml"))
        {
            var text = Regex.Replace(File.ReadAllText(path), @"(image""?:\s*""?)[a-z0-9.:/_-]+", "${1}" + Unreachable);
            files.Add(Bytes("corpus-" + Path.GetFileName(path), Encoding.UTF8.GetBytes(text)));
        }

        files.Add(new("fifo.yaml", p => FileSystemOps.MakeNode(p, FileSystemOps.S_IFIFO | 0x1A4, 0, 0), "not a regular file but a FIFO"));
        files.Add(new("zero.yaml", p => File.CreateSymbolicLink(p, "/dev/zero"), "not a regular file but a character device"));
        files.Add(new("dangling.yaml", p => File.CreateSymbolicLink(p, p + ".nowhere"), "a dangling symbolic link"));
        files.Add(new("loop.yaml", p => File.CreateSymbolicLink(p, p), "a symbolic link loop"));
        files.Add(new("socket.yaml", p =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _sockets.Add(socket);
            socket.Bind(new UnixDomainSocketEndPoint(p));
        }, "not a regular file but a socket"));
        var huge = Encoding.UTF8.GetBytes(LongRunning("huge") + "# " + new string('#', 4 * 1024 * 1024) + "\n");
        files.Add(Bytes("huge.yaml", huge, "is larger than 3145728 bytes"));
        files.Add(Bytes("bom.yaml", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(LongRunning("bom"))]));

        // Spread the named cases over the batches, the same way every run.
        var random = new Random(10);
        return [.. files.OrderBy(_ => random.Next())];
    }

    /// <summary>A file of bytes, written under a dot name and renamed into place so the agent never reads half of it.</summary>
    private static HostileFile Bytes(string name, byte[] content, string? phrase = null) => new(name, path =>
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, "." + name + ".tmp");
        File.WriteAllBytes(temp, content);
        File.Move(temp, path);
    }, phrase, content);

    private static string Run(string program, params string[] args) => RepoPaths.Run(program, args);
}
