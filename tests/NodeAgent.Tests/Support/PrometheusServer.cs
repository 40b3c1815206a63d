using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Support;

/// <summary>A real Prometheus (Debian's) on a loopback port with the given scrape configuration and its own TSDB
/// directory, queried through its HTTP API; killed (with anything it started) on dispose.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly Task _drain;
    private readonly HttpClient _http;

    /// <param name="scrapeConfigs">The <c>scrape_configs</c> entries (YAML list items); scrapes run every second.</param>
    public PrometheusServer(string dir, string scrapeConfigs)
    {
        var port = LoopbackHttpServer.FreePort();
        var config = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(config, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" + scrapeConfigs);
        _process = Process.Start(new ProcessStartInfo("prometheus")
        {
            ArgumentList = { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "tsdb")}", $"--web.listen-address=127.0.0.1:{port}" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        _drain = Task.WhenAll(DrainAsync(_process.StandardOutput), DrainAsync(_process.StandardError));
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public bool HasExited => _process.HasExited;

    /// <summary>What Prometheus logged (the last lines), for failure messages.</summary>
    public string Log(int lines = 30) => string.Join('\n', _log.TakeLast(lines));

    /// <summary>The first sample's value of an instant query, or null (no result yet, or not listening yet).</summary>
    public async Task<string?> QueryAsync(string query)
    {
        try
        {
            using var doc = JsonDocument.Parse(await _http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query)));
            var result = doc.RootElement.GetProperty("data").GetProperty("result");
            return result.GetArrayLength() == 0 ? null : result[0].GetProperty("value")[1].GetString();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private async Task DrainAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            _log.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        await _drain;
        _http.Dispose();
        _process.Dispose();
    }
}
