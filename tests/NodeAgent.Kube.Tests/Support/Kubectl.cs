using System.Diagnostics;

namespace NodeAgent.Kube.Tests.Support;

/// <summary>Runs the real kubectl (from PATH) with a kubeconfig.</summary>
public static class Kubectl
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static async Task<Result> RunAsync(string kubeconfig, string args, string? stdin = null, int timeoutSeconds = 30, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(kubeconfig, args, stdin is not null, environment);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {args} did not finish in {timeoutSeconds} s");
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public static Process Start(string kubeconfig, string args, bool redirectStdin = false, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("kubectl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (var a in SplitArgs(args))
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["KUBECONFIG"] = kubeconfig;
        info.Environment["HOME"] = Path.GetTempPath();
        info.Environment["KUBECACHEDIR"] = Path.Combine(Path.GetDirectoryName(kubeconfig)!, ".kube-cache");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return Process.Start(info)!;
    }

    private static IEnumerable<string> SplitArgs(string args)
    {
        var current = new System.Text.StringBuilder();
        char? quote = null;
        var any = false;
        foreach (var c in args)
        {
            if (quote is not null)
            {
                if (c == quote) quote = null; else current.Append(c);
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                any = true;
            }
            else if (c == ' ')
            {
                if (current.Length > 0 || any) yield return current.ToString();
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
            }
        }
        if (current.Length > 0 || any) yield return current.ToString();
    }
}
