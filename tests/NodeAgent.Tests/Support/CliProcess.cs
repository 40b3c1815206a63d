using System.Diagnostics;

namespace NodeAgent.Tests.Support;

/// <summary>Runs the real nodeagent CLI against a fixture's root.</summary>
public static class CliProcess
{
    public static Process Start(RuntimeFixture rt, params string[] args)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "nodeagent"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        psi.ArgumentList.Add("--root-dir");
        psi.ArgumentList.Add(rt.Root);
        psi.ArgumentList.Add("--pod-log-dir");
        psi.ArgumentList.Add(rt.Logs);
        psi.ArgumentList.Add("--cgroup-root");
        psi.ArgumentList.Add(rt.CgroupPrefix);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NODEAGENT_SHIM"] = RepoPaths.ShimPath;
        return Process.Start(psi)!;
    }

    public static async Task<string> RunAsync(RuntimeFixture rt, params string[] args)
    {
        using var p = Start(rt, args);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"nodeagent {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}");
        }

        return await stdout;
    }
}
