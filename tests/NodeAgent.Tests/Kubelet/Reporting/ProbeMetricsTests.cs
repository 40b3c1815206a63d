using k8s.Models;
using NodeAgent.Kubelet.Prober;
using NodeAgent.Kubelet.Reporting;
using Prometheus;

namespace NodeAgent.Tests.Kubelet.Reporting;

/// <summary>
/// <c>/metrics/probes</c> as kubelet's prober worker fills it: <c>prober_probe_total</c> by result, and
/// <c>prober_probe_duration_seconds</c> observed for successful and unknown answers only (kubelet's worker times no
/// failure); a worker's series appear with their first value, and go with the pod.
/// </summary>
public sealed class ProbeMetricsTests
{
    private static readonly V1Pod Pod = new() { Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Uid = "u1" } };
    private static readonly V1Container Container = new() { Name = "app" };

    private static async Task<string> ExportAsync(CollectorRegistry registry)
    {
        using var body = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(body);
        return System.Text.Encoding.UTF8.GetString(body.ToArray());
    }

    [Fact]
    public async Task AnswersAreCountedAndSuccessesAndUnknownsTimedAsKubeletDoes()
    {
        var registry = Metrics.NewCustomRegistry();
        var metrics = new ProbeMetrics(registry);
        var series = metrics.For(Pod, Container, ProbeKind.Liveness);
        Assert.DoesNotContain("probe_type=\"Liveness\"", await ExportAsync(registry), StringComparison.Ordinal);

        series.Observe(ProbeResult.Success, TimeSpan.FromMilliseconds(1.2));
        series.Observe(ProbeResult.Warning, TimeSpan.FromMilliseconds(3));
        series.Observe(ProbeResult.Failure, TimeSpan.FromSeconds(1));
        series.Observe(ProbeResult.Unknown, TimeSpan.FromMilliseconds(20));
        var text = await ExportAsync(registry);
        const string Worker = "probe_type=\"Liveness\",container=\"app\",pod=\"web\",namespace=\"shop\"";
        string[] expected =
        [
            .. new[] { ("successful", 2), ("failed", 1), ("unknown", 1) }.Select(r =>
                $"prober_probe_total{{probe_type=\"Liveness\",result=\"{r.Item1}\",container=\"app\",pod=\"web\",namespace=\"shop\",pod_uid=\"u1\"}} {r.Item2}"),
            // Three observations (the failure is not timed), in the 0.5 ms buckets below 10 ms.
            $"prober_probe_duration_seconds_count{{{Worker}}} 3",
            .. new[] { ("0.001", 0), ("0.0015", 1), ("0.003", 2), ("0.025", 3) }.Select(b =>
                $"prober_probe_duration_seconds_bucket{{{Worker},le=\"{b.Item1}\"}} {b.Item2}"),
        ];
        foreach (var line in expected)
        {
            Assert.Contains(line, text, StringComparison.Ordinal);
        }

        metrics.Forget(Pod);
        Assert.DoesNotContain("pod=\"web\"", await ExportAsync(registry), StringComparison.Ordinal);
    }
}
