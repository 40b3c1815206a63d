using System.Diagnostics;

namespace NodeAgent.Tests.Support;

/// <summary>Locates the repository and the published shim (publishing it once if hack/test.sh did not).</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> Shim = new(LocateShim, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeAgent.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("repository root (NodeAgent.sln) not found above " + AppContext.BaseDirectory);
        }
    }

    public static string ShimPath => Shim.Value;

    private static string LocateShim()
    {
        var fromEnv = Environment.GetEnvironmentVariable("NODEAGENT_SHIM");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }

        var built = Path.Combine(Root, "build", "shim", "nodeagent-shim");
        if (!File.Exists(built))
        {
            Run(Path.Combine(Root, "hack", "publish-shim.sh"));
        }

        return built;
    }

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        }

        return stdout.Result;
    }
}
