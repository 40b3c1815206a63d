using System.Diagnostics;
using System.Text.Json;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Stats;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #14 from the outside, as a cluster's users see it: the agent joins the test API server; the real kubectl
/// reads <c>/stats/summary</c>, <c>/metrics</c>, <c>/metrics/cadvisor</c>, <c>/metrics/resource</c> and
/// <c>/metrics/probes</c> through the API server's node proxy (promtool judges each metrics document), and a real
/// Prometheus scrapes the node as it scrapes a kubelet (HTTPS, a bearer token, jobs for <c>/metrics</c> and
/// <c>/metrics/cadvisor</c>) and sees a busy pod's <c>container_cpu_usage_seconds_total</c> rise.
/// </summary>
[Collection("agent")]
public sealed class NodeMetricsAgentTests : ApiAgentTest
{
    private const string Busy = """
        apiVersion: v1
        kind: Pod
        metadata: {name: busy}
        spec:
          hostNetwork: true
          terminationGracePeriodSeconds: 1
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: IfNotPresent
            command: ["sh", "-c", "head -c 1048576 /dev/zero > /scratch/mib; trap 'exit 0' TERM; while true; do :; done"]
            readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
            volumeMounts: [{name: scratch, mountPath: /scratch}]
          volumes: [{name: scratch, emptyDir: {}}]

        """;

    private Task<string> RawAsync(string path) => Cluster.KubectlOkAsync($"get --raw /api/v1/nodes/{ApiCluster.NodeName}/proxy{path}");

    [PrivilegedFact]
    public async Task StatsAndMetricsThroughKubectlAndARealPrometheus()
    {
        var agent = await Node.StartAsync(Cluster.AgentFlags());
        await agent.WaitForLogAsync(l => l.Contains("kubelet API listening", StringComparison.Ordinal));
        await Cluster.WaitNodeReadyAsync();
        await Cluster.KubectlOkAsync("apply -f -", Busy);
        var pod = await Cluster.WaitPodAsync("busy", p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true, "ready");

        // /stats/summary, field by field (kubelet's stats/v1alpha1 Summary).
        using (var summary = JsonDocument.Parse(await RawAsync("/stats/summary")))
        {
            var node = summary.RootElement.GetProperty("node");
            Assert.Equal(ApiCluster.NodeName, node.GetProperty("nodeName").GetString());
            Assert.True(node.GetProperty("cpu").GetProperty("usageCoreNanoSeconds").GetUInt64() > 0);
            Assert.True(node.GetProperty("memory").GetProperty("workingSetBytes").GetUInt64() > 0);
            Assert.True(node.GetProperty("fs").GetProperty("capacityBytes").GetUInt64() > 0);
            Assert.True(node.GetProperty("runtime").GetProperty("imageFs").GetProperty("capacityBytes").GetUInt64() > 0);
            var busy = summary.RootElement.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("podRef").GetProperty("name").GetString() == "busy");
            Assert.Equal(("default", pod.Metadata.Uid), (busy.GetProperty("podRef").GetProperty("namespace").GetString(), busy.GetProperty("podRef").GetProperty("uid").GetString()));
            var main = busy.GetProperty("containers").EnumerateArray().Single();
            Assert.Equal("main", main.GetProperty("name").GetString());
            Assert.True(main.GetProperty("cpu").GetProperty("usageCoreNanoSeconds").GetUInt64() > 0);
            Assert.True(main.GetProperty("memory").GetProperty("workingSetBytes").GetUInt64() > 0);
        }

        // The pod's emptyDir in its volume list (walked in the background: the first scrape starts the walk).
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            using var summary = JsonDocument.Parse(await RawAsync("/stats/summary"));
            var busy = summary.RootElement.GetProperty("pods").EnumerateArray().Single(p => p.GetProperty("podRef").GetProperty("name").GetString() == "busy");
            if (busy.TryGetProperty("volume", out var volumes)
                && volumes.EnumerateArray().FirstOrDefault(v => v.GetProperty("name").GetString() == "scratch") is { ValueKind: JsonValueKind.Object } scratch)
            {
                Assert.True(scratch.GetProperty("usedBytes").GetUInt64() >= 1048576, scratch.ToString());
                Assert.True(busy.GetProperty("ephemeral-storage").GetProperty("usedBytes").GetUInt64() >= 1048576);
                break;
            }
            await Task.Delay(500, deadline.Token);
        }

        // Every metrics document passes promtool (cAdvisor's own failcnt name draws its one lint, as cAdvisor's does).
        var cadvisor = await RawAsync("/metrics/cadvisor");
        Assert.Matches("container_cpu_usage_seconds_total\\{[^}]*container=\"main\"[^}]*pod=\"busy\"", cadvisor);
        Assert.Equal([Promtool.CadvisorFailcntLint], await Promtool.CheckAsync(System.Text.Encoding.UTF8.GetBytes(cadvisor)));
        var resource = await RawAsync("/metrics/resource");
        Assert.Contains("container_cpu_usage_seconds_total{container=\"main\",namespace=\"default\",pod=\"busy\"}", resource, StringComparison.Ordinal);
        Assert.Empty(await Promtool.CheckAsync(System.Text.Encoding.UTF8.GetBytes(resource)));
        var metrics = await RawAsync("/metrics");
        Assert.Contains("kubelet_node_name{node=\"node1\"} 1", metrics, StringComparison.Ordinal);
        Assert.Matches("kubelet_running_pods [1-9]", metrics);
        Assert.Empty(await Promtool.CheckAsync(System.Text.Encoding.UTF8.GetBytes(metrics)));
        var probes = await RawAsync("/metrics/probes");
        Assert.Matches("prober_probe_total\\{probe_type=\"Readiness\",result=\"successful\",container=\"main\",pod=\"busy\",namespace=\"default\",pod_uid=\"[^\"]+\"\\} [1-9]", probes);
        Assert.Empty(await Promtool.CheckAsync(System.Text.Encoding.UTF8.GetBytes(probes)));

        await ScrapeWithPrometheusAsync(agent);
    }

    private async Task ScrapeWithPrometheusAsync(AgentProcess agent)
    {
        using var dir = new TempDir("nodeagent-prometheus");
        var job = (string name, string path) => $"""
            - job_name: {name}
              scheme: https
              metrics_path: {path}
              authorization:
                credentials: {Cluster.Server.AdminToken}
              tls_config:
                ca_file: {Path.Combine(Node.Rt.Root, "pki", "kubelet.crt")}
                server_name: {ApiCluster.NodeName}
              static_configs:
              - targets: ['127.0.0.1:{agent.ApiPort}']

            """;
        await using var prometheus = new PrometheusServer(dir.Path, job("kubelet", "/metrics") + job("cadvisor", "/metrics/cadvisor"));
        const string cpu = "container_cpu_usage_seconds_total{job=\"cadvisor\",pod=\"busy\",container=\"main\",cpu=\"total\"}";
        double? first = null;
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(prometheus.HasExited, "prometheus exited:\n" + prometheus.Log());
            var up = (await prometheus.QueryAsync("up{job=\"kubelet\"}"), await prometheus.QueryAsync("up{job=\"cadvisor\"}"));
            var value = await prometheus.QueryAsync(cpu);
            if (up == ("1", "1") && value is not null)
            {
                var v = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                first ??= v;
                if (v > first)
                {
                    // The busy loop's CPU time rose between two scrapes.
                    return;
                }
            }
            // Prometheus scrapes once a second: ask again shortly (bounded by the deadline).
            await Task.Delay(250);
        }
        Assert.Fail($"no rising {cpu} within 120 s (first {first}); prometheus said:\n{prometheus.Log()}");
    }
}
