using System.Diagnostics;
using NodeAgent.Linux;

namespace NodeAgent.Tests.Linux;

/// <summary>The epoll loop of <see cref="ExitWatcher"/> turning process exits into tasks.</summary>
public sealed class ExitWatcherTests
{
    [Fact]
    public async Task A_wait_completes_when_the_process_is_killed_and_a_cancelled_wait_is_cancelled()
    {
        using var watcher = new ExitWatcher();
        using var first = Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
        using var second = Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
        try
        {
            using var firstFd = PidFd.TryOpen(first.Id)!;
            using var secondFd = PidFd.TryOpen(second.Id)!;
            using var cancel = new CancellationTokenSource();
            var exited = watcher.WaitAsync(firstFd);
            var cancelled = watcher.WaitAsync(secondFd, cancel.Token);
            Assert.False(exited.IsCompleted);

            Assert.True(firstFd.Signal(9));
            await exited.WaitAsync(TimeSpan.FromSeconds(30));
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
            Assert.False(second.HasExited);
        }
        finally
        {
            foreach (var p in new[] { first, second }.Where(p => !p.HasExited))
            {
                p.Kill();
            }
        }
    }

    [Fact]
    public async Task Disposing_the_watcher_cancels_what_is_still_waited_for()
    {
        var watcher = new ExitWatcher();
        using var process = Process.Start(new ProcessStartInfo("/bin/sleep", "300") { UseShellExecute = false })!;
        try
        {
            using var pidFd = PidFd.TryOpen(process.Id)!;
            var waiting = watcher.WaitAsync(pidFd);
            watcher.Dispose();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
            Assert.Throws<ObjectDisposedException>(() => { _ = watcher.WaitAsync(pidFd); });
        }
        finally
        {
            process.Kill();
        }
    }
}
