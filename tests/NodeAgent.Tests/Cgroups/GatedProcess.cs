using System.Diagnostics;

namespace NodeAgent.Tests.Cgroups;

/// <summary>
/// A shell that waits for a line on stdin before running its script, so a test can move it into a cgroup
/// before it does anything. Killed on dispose.
/// </summary>
public sealed class GatedProcess : IDisposable
{
    private readonly Process _process;

    public GatedProcess(string script)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("read gate; " + script);
        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start /bin/sh");
        Stderr = _process.StandardError.ReadToEndAsync();
    }

    public int Pid => _process.Id;

    public Task<string> Stderr { get; }

    public Process Process => _process;

    public void Release()
    {
        _process.StandardInput.WriteLine("go");
        _process.StandardInput.Flush();
    }

    /// <summary>Next line the script prints, or null at end of output.</summary>
    public Task<string?> ReadLineAsync(TimeSpan timeout) =>
        _process.StandardOutput.ReadLineAsync().WaitAsync(timeout);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
