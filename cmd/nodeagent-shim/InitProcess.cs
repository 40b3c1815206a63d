using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>The container's first process as the shim holds it: its PID and pidfd, and the read ends of its stdout and stderr.</summary>
internal sealed record InitProcess(int Pid, PidFd PidFd, SafeFileHandle Stdout, SafeFileHandle Stderr) : IDisposable
{
    public void Dispose()
    {
        PidFd.Dispose();
        Stdout.Dispose();
        Stderr.Dispose();
    }
}
