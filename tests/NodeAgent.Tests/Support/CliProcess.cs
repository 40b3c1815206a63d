using System.Diagnostics;

namespace NodeAgent.Tests.Support;

/// <summary>Runs the real nodeagent CLI against a fixture's root.</summary>
public static class CliProcess
{
    public static Process Start(RuntimeFixture rt, params string[] args) => StartIn(null, rt, args);

    /// <summary>Runs the CLI inside the named network namespace (or the one pinned at a path starting with '/') when <paramref name="netns"/> is set: nsenter, not
    /// <c>ip netns exec</c>, which remounts /sys and so hides the cgroup hierarchies.</summary>
    public static Process StartIn(string? netns, RuntimeFixture rt, params string[] args) => StartIn(netns, rt, null, args);

    /// <summary>As <see cref="StartIn(string?, RuntimeFixture, string[])"/>, with a last change to the start info (environment, a wrapper).</summary>
    public static Process StartIn(string? netns, RuntimeFixture rt, Action<ProcessStartInfo>? configure, params string[] args)
    {
        var binary = Path.Combine(AppContext.BaseDirectory, "nodeagent");
        var psi = new ProcessStartInfo(netns is null ? binary : "nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        if (netns is not null)
        {
            psi.ArgumentList.Add(netns.StartsWith('/') ? $"--net={netns}" : $"--net=/var/run/netns/{netns}");
            psi.ArgumentList.Add(binary);
        }

        psi.ArgumentList.Add("--root-dir");
        psi.ArgumentList.Add(rt.Root);
        psi.ArgumentList.Add("--runtime-state-dir");
        psi.ArgumentList.Add(rt.State);
        psi.ArgumentList.Add("--pod-log-dir");
        psi.ArgumentList.Add(rt.Logs);
        psi.ArgumentList.Add("--cgroup-root");
        psi.ArgumentList.Add(rt.CgroupPrefix);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["NODEAGENT_SHIM"] = RepoPaths.ShimPath;
        configure?.Invoke(psi);
        return Process.Start(psi)!;
    }

    public static Task<string> RunAsync(RuntimeFixture rt, params string[] args) => RunInAsync(null, rt, args);

    public static async Task<string> RunInAsync(string? netns, RuntimeFixture rt, params string[] args)
    {
        using var p = StartIn(netns, rt, args);
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
