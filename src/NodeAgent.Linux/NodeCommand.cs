using System.Diagnostics;

namespace NodeAgent.Linux;

/// <summary>
/// Runs a helper program (iptables-restore, a CNI plugin) in the node's network namespace: directly when the node
/// is the caller's own namespace, through <c>nsenter --net</c> when it is given as a path (tests, benchmarks).
/// </summary>
public sealed class NodeCommand(string? nodeNetns)
{
    public string? NodeNetns { get; } = nodeNetns;

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public async Task<Result> RunAsync(string file, IEnumerable<string> args, string? stdin,
        IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(NodeNetns is null ? file : "nsenter")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (NodeNetns is not null)
        {
            psi.ArgumentList.Add("--net=" + NodeNetns);
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(file);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                psi.Environment[k] = v;
            }
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new IOException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new IOException($"could not run {file}: {ex.Message}", ex);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin.AsMemory(), cancellationToken);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(cancellationToken);
            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }
}
