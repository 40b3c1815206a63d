using System.Diagnostics;
using System.Text.Json;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Server;

/// <summary>
/// A real Prometheus (Debian's) scrapes the kubelet API's metrics document as it scrapes a kubelet: HTTPS, the
/// serving certificate as its CA, a bearer token the API server knows (TokenReview) and may read nodes/metrics
/// (SubjectAccessReview); its HTTP API then says <c>up == 1</c> and has the exposition's counter. promtool checks
/// the document.
/// </summary>
public sealed class PrometheusScrapeTests
{
    [Fact]
    public async Task PrometheusScrapesMetricsOverHttpsWithABearerToken()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        var caFile = s.Dir.Combine("serving.crt");
        await File.WriteAllTextAsync(caFile, s.Certificate.Current.ExportCertificatePem());
        await using var prometheus = new PrometheusServer(s.Dir.Path, $"""
            - job_name: kubelet
              scheme: https
              metrics_path: /metrics
              authorization:
                credentials: {s.Api.AdminToken}
              tls_config:
                ca_file: {caFile}
                server_name: 127.0.0.1
              static_configs:
              - targets: ['127.0.0.1:{s.Url.Port}']

            """);
        var deadline = DateTime.UtcNow.AddSeconds(90);
        string? up = null;
        string? counter = null;
        while (DateTime.UtcNow < deadline && (up != "1" || counter != "3"))
        {
            Assert.False(prometheus.HasExited, "prometheus exited:\n" + prometheus.Log());
            up = await prometheus.QueryAsync("up{job=\"kubelet\"}");
            counter = await prometheus.QueryAsync("nodeagent_test_requests_total{job=\"kubelet\"}");
            if (up != "1" || counter != "3")
            {
                // Prometheus scrapes once a second: ask again shortly (bounded by the deadline above).
                await Task.Delay(250);
            }
        }

        Assert.True(up == "1", $"up = {up}; prometheus said:\n{prometheus.Log()}");
        Assert.Equal("3", counter);
    }

    [Fact]
    public async Task PromtoolAcceptsTheMetricsDocument()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        using var admin = s.Client(token: s.Api.AdminToken);
        var text = await admin.GetStringAsync("/metrics");
        using var promtool = Process.Start(new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        await promtool.StandardInput.WriteAsync(text);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, output);
    }
}
