using System.Diagnostics;

namespace NodeAgent.Tests.Support;

/// <summary>Reads /proc/locks: how many lock requests are blocked on a file's flock.</summary>
public static class FlockWaiters
{
    /// <summary>Completes once <paramref name="count"/> requests wait for the flock on <paramref name="path"/>.</summary>
    public static async Task WaitForAsync(string path, int count, TimeSpan? timeout = null)
    {
        var inode = await InodeAsync(path);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (Count(inode) < count)
        {
            // The kernel offers no notification for a blocked flock: re-read until the condition holds.
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"fewer than {count} waiters on the flock of {path}:\n{File.ReadAllText("/proc/locks")}");
            }

            await Task.Delay(20);
        }
    }

    private static int Count(string inode) =>
        File.ReadAllLines("/proc/locks").Count(l => l.Contains("->", StringComparison.Ordinal) && l.Contains("FLOCK", StringComparison.Ordinal)
            && l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(f => f.EndsWith(":" + inode, StringComparison.Ordinal)));

    private static async Task<string> InodeAsync(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var inode = (await stat.StandardOutput.ReadToEndAsync()).Trim();
        await stat.WaitForExitAsync();
        return inode;
    }
}
