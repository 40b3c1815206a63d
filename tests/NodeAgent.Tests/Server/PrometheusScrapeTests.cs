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
        var webPort = LoopbackHttpServer.FreePort();
        var config = s.Dir.Combine("prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
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

        using var prometheus = Process.Start(new ProcessStartInfo("prometheus")
        {
            ArgumentList = { $"--config.file={config}", $"--storage.tsdb.path={s.Dir.Combine("tsdb")}", $"--web.listen-address=127.0.0.1:{webPort}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var drain = Task.WhenAll(Drain(prometheus.StandardOutput, log), Drain(prometheus.StandardError, log));
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow.AddSeconds(90);
            string? up = null;
            string? counter = null;
            while (DateTime.UtcNow < deadline && (up != "1" || counter != "3"))
            {
                Assert.False(prometheus.HasExited, "prometheus exited:\n" + string.Join('\n', log));
                up = await QueryAsync(http, "up{job=\"kubelet\"}");
                counter = await QueryAsync(http, "nodeagent_test_requests_total{job=\"kubelet\"}");
                if (up != "1" || counter != "3")
                {
                    // Prometheus scrapes once a second: ask again shortly (bounded by the deadline above).
                    await Task.Delay(250);
                }
            }

            Assert.True(up == "1", $"up = {up}; prometheus said:\n{string.Join('\n', log)}");
            Assert.Equal("3", counter);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
            await drain;
        }
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

    private static async Task<string?> QueryAsync(HttpClient http, string query)
    {
        try
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query)));
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? null : result[0].GetProperty("value")[1].GetString();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task Drain(StreamReader reader, System.Collections.Concurrent.ConcurrentQueue<string> log)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            log.Enqueue(line);
        }
    }
}
