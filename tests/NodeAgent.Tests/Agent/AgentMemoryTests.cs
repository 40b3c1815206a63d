using System.Globalization;
using System.Text;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// End to end, as root (issue #10, "Resources"): large pods cost about their size while they are on the node and
/// the agent's memory comes back once they are gone; <c>/pods</c> under 200 concurrent readers with a large pod on
/// the node stays bounded. Memory is the agent's resident set from <c>/proc/PID/status</c>; the peak is
/// <c>VmHWM</c>, reset through <c>/proc/PID/clear_refs</c> before the part measured.
/// </summary>
[Collection("agent")]
public sealed class AgentMemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int LargePods = 10;

    // 8 values of 128,000 bytes: 1 MiB of environment per pod, each value under the kernel's 128 KiB limit for one
    // string, so the containers really start with it.
    private const int EnvValues = 8;
    private const int EnvValueBytes = 128_000;

    // The /pods test's pod: two such containers and a 250 KiB annotation (under the 3 MiB manifest limit), a body of about 2.3 MB.
    private const int ReaderPodContainers = 2;

    private const string Canary = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: canary
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]
        """;

    private AgentNode _node = null!;
    private AgentProcess? _agent;
    private readonly List<string> _removed = [];

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
    }

    private static string LargePod(string name, int envValues, int annotationBytes, int containers = 1)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n");
        if (annotationBytes > 0)
        {
            b.Append(CultureInfo.InvariantCulture, $"  annotations:\n    big: \"{new string('a', annotationBytes)}\"\n");
        }

        b.Append("spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n");
        for (var c = 0; c < containers; c++)
        {
            b.Append(CultureInfo.InvariantCulture, $"  - name: main{c}\n    image: localhost/busybox:latest\n");
            b.Append("    imagePullPolicy: Never\n    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1 & wait; done\"]\n");
            if (envValues > 0)
            {
                b.Append("    env:\n");
                for (var i = 0; i < envValues; i++)
                {
                    b.Append(CultureInfo.InvariantCulture, $"    - name: BIG{i}\n      value: \"{new string((char)('a' + i), EnvValueBytes)}\"\n");
                }
            }
        }

        return b.ToString();
    }

    private async Task StartWithCanaryAsync()
    {
        await File.WriteAllTextAsync(_node.Manifest("canary.yaml"), Canary);
        _agent = await _node.StartAsync(null, psi =>
        {
            // The tests run the JIT-compiled agent: tiered compilation would recompile hot methods during the measured
            // wave (code the AOT-compiled product never generates), so the agent is compiled fully at first call.
            psi.Environment["DOTNET_TieredCompilation"] = "0";
        });
        await _agent.WaitForEventAsync("canary-node1", "Started");
    }

    /// <summary>Writes the pods and waits until each has started.</summary>
    private async Task LoadAsync(IReadOnlyDictionary<string, string> pods)
    {
        foreach (var (name, yaml) in pods)
        {
            await File.WriteAllTextAsync(_node.Manifest(name + ".yaml"), yaml);
        }

        foreach (var name in pods.Keys)
        {
            await _agent!.WaitForEventAsync(name + "-node1", "Started", timeoutSeconds: 120);
        }
    }

    /// <summary>Removes the pods' files and waits until each is stopped and removed and the heap trim after the wave has run.</summary>
    private async Task RemoveAsync(IEnumerable<string> names)
    {
        var trimsBefore = _agent!.Count(IsTrim);
        foreach (var name in names)
        {
            File.Delete(_node.Manifest(name + ".yaml"));
            _removed.Add(name);
        }

        foreach (var name in _removed)
        {
            var key = $"pod {name}-node1_default(";
            await _agent.WaitForLogAsync(l => l.Contains(key, StringComparison.Ordinal) && l.Contains("): stopped and removed", StringComparison.Ordinal), 120);
        }

        _removed.Clear();
        var seen = 0;
        await _agent.WaitForLogAsync(l => IsTrim(l) && ++seen > trimsBefore, 60);
    }

    private string Trims() => string.Join("; ", _agent!.Lines.Where(IsTrim));

    private static bool IsTrim(string line) => line.Contains("pods removed: heap ", StringComparison.Ordinal);

    private static Dictionary<string, string> LargeBatch(string prefix)
    {
        var pods = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < LargePods; i++)
        {
            pods[$"{prefix}{i}"] = LargePod($"{prefix}{i}", EnvValues, 0);
        }

        // The API server's limit for all annotations of an object is 256 KiB.
        pods[prefix + "anno"] = LargePod(prefix + "anno", 0, 250 * 1024);
        return pods;
    }

    private long Kb(string field) => _agent!.ProcStatusKiB(field);

    private void ResetPeak() => File.WriteAllText($"/proc/{_agent!.Pid}/clear_refs", "5");

    [PrivilegedFact]
    public async Task LargePodsCostAboutTheirSizeAndTheMemoryComesBackWhenTheyAreRemoved()
    {
        await StartWithCanaryAsync();
        var initial = Kb("VmRSS");

        // Two waves bring in the code paths (the tests run the JIT-compiled agent) and fill the runtime's shared
        // array pool, which keeps a few buffers per thread and size (bounded by threads and sizes, not by pods); the
        // third wave is measured against what the agent holds after them, and against the start.
        foreach (var prefix in (string[])["warma", "warmb"])
        {
            var wave = LargeBatch(prefix);
            await LoadAsync(wave);
            await RemoveAsync(wave.Keys);
        }

        var baseline = Kb("VmRSS");

        ResetPeak();
        var second = LargeBatch("big");
        await LoadAsync(second);
        var pods = await _agent!.PodsAsync();
        Assert.Equal(LargePods + 2, pods.Count);
        var loaded = Kb("VmHWM");
        await RemoveAsync(second.Keys);
        var after = Kb("VmRSS");

        var podBytesKb = second.Values.Sum(y => (long)y.Length) / 1024;
        var report = $"before any large pod {initial} kB, baseline {baseline} kB, peak while loaded {loaded} kB, after removal {after} kB, pods' manifests {podBytesKb} kB; " + Trims();
        output.WriteLine(report);
        // The peak is mostly garbage awaiting the next collection (each stage a pod passes through: the file's text,
        // YAML, JSON, validation, the UID hash, pod config's copy, the container hash, the runtime's spec and record,
        // /pods); here about 15-17 times the manifests' size. The issue saw 505 MB for these ten pods and kept it.
        Assert.True(loaded - baseline < 256 * 1024, report);
        Assert.True(after <= baseline * 1.10, report);
        Assert.True(after - initial < 32 * 1024, report);
        Assert.Equal(["canary-node1"], (await _agent.PodsAsync()).Select(p => p.Metadata.Name));
        Assert.True(await _agent.HealthyAsync());
    }

    [PrivilegedFact]
    public async Task PodsUnder200ConcurrentReadersWithALargePodStaysBoundedAndComesBack()
    {
        await StartWithCanaryAsync();
        // Two warm rounds, as in the test above: code paths and the shared array pool.
        foreach (var name in (string[])["warma", "warmb"])
        {
            var warm = new Dictionary<string, string>(StringComparer.Ordinal) { [name] = LargePod(name, EnvValues, 250 * 1024, ReaderPodContainers) };
            await LoadAsync(warm);
            await ReadPodsAsync(50);
            await RemoveAsync(warm.Keys);
        }

        var baseline = Kb("VmRSS");

        var large = new Dictionary<string, string>(StringComparer.Ordinal) { ["large"] = LargePod("large", EnvValues, 250 * 1024, ReaderPodContainers) };
        await LoadAsync(large);
        var beforeReads = Kb("VmRSS");
        ResetPeak();
        var bytes = await ReadPodsAsync(200);
        var peak = Kb("VmHWM");
        await RemoveAsync(large.Keys);
        var after = Kb("VmRSS");

        var report = $"baseline {baseline} kB, loaded {beforeReads} kB, peak during 200 reads {peak} kB, after removal {after} kB, body {bytes / 1024} kB; " + Trims();
        output.WriteLine(report);
        // Streamed, at most four lists at once: 200 readers of a 2.3 MB body cost a few copies of it and the garbage
        // awaiting the next collection, not 200 bodies (460 MB; the issue saw 1.3 GB for a 5 MB pod, never returned).
        Assert.True(bytes > 2_000_000, report);
        Assert.True(peak - beforeReads < 256 * 1024, report);
        Assert.True(after <= baseline * 1.10, report);
    }

    /// <summary>Reads <c>/pods</c> with that many concurrent clients; returns the size of one body.</summary>
    private async Task<long> ReadPodsAsync(int readers)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        var bodies = await Task.WhenAll(Enumerable.Range(0, readers).Select(async _ =>
        {
            using var response = await http.GetAsync($"{_agent!.Server}/pods", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[81920];
            long n = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                n += read;
            }

            return n;
        }));
        Assert.All(bodies, b => Assert.True(b > EnvValues * EnvValueBytes, $"body of {b} bytes"));
        return bodies[0];
    }
}
