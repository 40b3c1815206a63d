using System.Diagnostics;
using NodeAgent.Linux;

namespace NodeAgent.Tests.Linux;

/// <summary>pidfds: signalling and waiting for exits through the kernel's notification (what cgroup removal uses).</summary>
public sealed class PidFdTests
{
    [Fact]
    public void WaitForAllExited_times_out_while_a_process_lives_and_returns_once_it_is_killed()
    {
        using var process = Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
        try
        {
            using var pidFd = PidFd.TryOpen(process.Id);
            Assert.NotNull(pidFd);
            Assert.False(PidFd.WaitForAllExited([pidFd], TimeSpan.FromMilliseconds(50)));

            Assert.True(pidFd.Signal(9));
            Assert.True(PidFd.WaitForAllExited([pidFd], TimeSpan.FromSeconds(30)));
            process.WaitForExit();
            Assert.False(pidFd.Signal(9)); // reaped: the pidfd never reaches a recycled PID.
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public void WaitForAllExited_of_nothing_is_immediately_true() =>
        Assert.True(PidFd.WaitForAllExited([], TimeSpan.Zero));
}
