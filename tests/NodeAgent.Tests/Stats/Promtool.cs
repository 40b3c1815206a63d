using System.Diagnostics;

namespace NodeAgent.Tests.Stats;

/// <summary>Runs Prometheus's <c>promtool check metrics</c> on an exposition (Debian's <c>prometheus</c> package).</summary>
internal static class Promtool
{
    /// <summary>
    /// The one lint cAdvisor's own output fails: its <c>container_memory_failcnt</c> is a counter without the
    /// <c>_total</c> suffix, and dashboards use that name, so it is kept.
    /// </summary>
    public const string CadvisorFailcntLint = "container_memory_failcnt counter metrics should have \"_total\" suffix";

    /// <summary>Problems promtool reports (parse errors and lints), one per line; empty when clean.</summary>
    public static async Task<List<string>> CheckAsync(byte[] exposition)
    {
        var start = new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("promtool did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(exposition);
        process.StandardInput.Close();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var lines = ((await stdout) + "\n" + (await stderr)).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (process.ExitCode != 0 && lines.Count == 0)
        {
            lines.Add($"promtool exited with {process.ExitCode} and said nothing");
        }

        return lines;
    }
}
