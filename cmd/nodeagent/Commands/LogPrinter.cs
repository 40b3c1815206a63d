using NodeAgent.Logs;

namespace NodeAgent.Cli.Commands;

/// <summary>Prints a CRI log to stdout/stderr by stream, optionally following it until a task completes.</summary>
internal static class LogPrinter
{
    public static async Task FollowUntilExitAsync(string path, Task until, int? tail = null)
    {
        using var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        using var stderr = new StreamWriter(Console.OpenStandardError()) { AutoFlush = false };
        var options = new CriLogReadOptions { Follow = !until.IsCompleted, FollowUntil = until, Tail = tail };
        await foreach (var entry in new CriLogReader(path).ReadAsync(options, CancellationToken.None))
        {
            var target = entry.Stream == CriStream.Stdout ? stdout : stderr;
            if (entry.Complete)
            {
                await target.WriteLineAsync(entry.Content);
            }
            else
            {
                await target.WriteAsync(entry.Content);
            }

            await target.FlushAsync();
        }
    }
}
