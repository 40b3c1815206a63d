using System.Globalization;
using System.Text;
using System.Threading.Channels;
using k8s;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet;

/// <summary>
/// Seeded fuzzing of the manifest path (issue #10): mutated manifests go through decode → check → default →
/// validate → normalise and through a real FilePodSource beside a canary pod. Nothing may throw, the canary is in
/// every snapshot, every rejected file is named in the log, and every accepted pod is safe for the code after it.
/// The seed is fixed (override with NODEAGENT_FUZZ_SEED) and printed with any failure.
/// </summary>
public sealed class ManifestFuzzTests
{
    private const int Cases = 300;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("NODEAGENT_FUZZ_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 20261201;

    [Fact]
    public void TheDecodePipelineNeverThrowsAndOnlyLetsSafePodsThrough()
    {
        var fuzzer = new ManifestFuzzer(Seed);
        var decoder = new PodManifestDecoder("node1", PodSourceNames.File);
        for (var i = 0; i < Cases; i++)
        {
            var (content, mutation) = fuzzer.Next();
            var origin = $"/fuzz/case-{i}.yaml";
            var where = $"seed {fuzzer.Seed}, case {i} ({mutation})";
            ManifestDecodeResult result;
            try
            {
                result = decoder.Decode(origin, Encoding.UTF8.GetString(content));
            }
            catch (Exception e)
            {
                Assert.Fail($"{where}: Decode threw {e}");
                throw;
            }

            Assert.True(result.Errors.All(e => e.Origin == origin), where);
            Assert.True(result.Errors.All(e => !e.ToString().Contains('\n', StringComparison.Ordinal)), $"{where}: an error spans lines");
            foreach (var pod in result.Pods)
            {
                // What QosClassifier, the cgroup and timer code do with an accepted pod must not throw.
                foreach (var c in pod.Spec.Containers.Concat(pod.Spec.InitContainers ?? []))
                {
                    foreach (var q in (c.Resources?.Limits ?? new Dictionary<string, k8s.Models.ResourceQuantity>()).Values
                        .Concat((c.Resources?.Requests ?? new Dictionary<string, k8s.Models.ResourceQuantity>()).Values))
                    {
                        Assert.NotNull(q);
                        _ = q.ToDecimal();
                    }
                }

                Assert.InRange(pod.Spec.TerminationGracePeriodSeconds ?? 0, 0, PodValidator.MaxTerminationGracePeriodSeconds);
                _ = TimeSpan.FromSeconds(pod.Spec.TerminationGracePeriodSeconds ?? 0);
                Assert.True(PodValidator.IsValidUid(pod.Metadata.Uid), where);
                Assert.DoesNotContain('\n', pod.Metadata.Name);
                _ = KubernetesJson.Serialize(pod);
            }
        }
    }

    [Fact]
    public async Task TheFileSourceKeepsTheCanaryAndNamesEveryRejectedFile()
    {
        using var dir = new TempDir("kubelet-fuzz");
        var logger = new ListLogger<FilePodSource>();
        var output = Channel.CreateUnbounded<PodSourceUpdate>();
        using var cts = new CancellationTokenSource();
        var canary = dir.Combine("0000-canary.yaml");
        await File.WriteAllTextAsync(canary, Canary(0));
        var source = new FilePodSource(
            new FilePodSourceOptions { Files = NodeAgent.Runtime.HostFiles.Instance, ManifestPath = dir.Path, NodeName = "node1", CheckFrequency = TimeSpan.FromHours(1), Debounce = TimeSpan.FromMilliseconds(20) },
            logger,
            TimeProvider.System);
        var run = source.RunAsync(output.Writer, cts.Token);
        var fuzzer = new ManifestFuzzer(Seed);
        var decoder = new PodManifestDecoder("node1", PodSourceNames.File);
        const int Batch = 30;
        try
        {
            for (var b = 1; b <= Cases / Batch; b++)
            {
                var expectNamed = new List<(string Path, string Why)>();
                for (var i = 0; i < Batch; i++)
                {
                    var (content, mutation) = fuzzer.Next();
                    var path = dir.Combine($"fuzz-{b:D2}-{i:D2}.yaml");
                    await File.WriteAllBytesAsync(path, content);
                    if (content.Length > ManifestLimits.MaxManifestBytes || decoder.Decode(path, Encoding.UTF8.GetString(content)).Errors.Count > 0)
                    {
                        expectNamed.Add((path, $"seed {fuzzer.Seed}, batch {b}, case {i} ({mutation})"));
                    }
                }

                // The canary changes last: the snapshot that carries its new version read every file of the batch.
                // It is replaced by a rename, as manifests should be: a pass that read it half-written would drop it,
                // as kubelet's file source drops a file it cannot parse.
                var next = dir.Combine(".canary.tmp");
                await File.WriteAllTextAsync(next, Canary(b));
                File.Move(next, canary, overwrite: true);
                PodSourceUpdate snapshot;
                do
                {
                    snapshot = await output.Reader.NextAsync();
                    Assert.True(snapshot.Pods.Any(p => p.Metadata.Name == "canary-node1"), $"seed {fuzzer.Seed}, batch {b}: a snapshot lost the canary");
                }
                while (!snapshot.Pods.Any(p => p.Metadata.Annotations?.TryGetValue("batch", out var v) == true && v == b.ToString(CultureInfo.InvariantCulture)));

                // A pass that listed the directory just before the batch's last files were written may still carry the
                // canary's new version (it is read after the listing): those files come in the next pass. Wait for each.
                foreach (var (path, why) in expectNamed)
                {
                    await logger.WaitForAsync(e => e.Level >= LogLevel.Warning && e.Message.Contains(path, StringComparison.Ordinal), TimeSpan.FromSeconds(30),
                        $"{why}: {path} was rejected but never named in the log");
                }

                Assert.False(run.IsCompleted, $"seed {fuzzer.Seed}, batch {b}: the file source loop ended");
                foreach (var f in Directory.EnumerateFiles(dir.Path, "fuzz-*"))
                {
                    File.Delete(f);
                }
            }
        }
        finally
        {
            await cts.CancelAsync();
            await run;
        }
    }

    private static string Canary(int batch) =>
        $"apiVersion: v1\nkind: Pod\nmetadata:\n  name: canary\n  annotations:\n    batch: \"{batch}\"\nspec:\n  containers:\n  - name: canary\n    image: busybox:1.36\n";
}
