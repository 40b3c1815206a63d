using NodeAgent.Logs;

namespace NodeAgent.Cli.Commands;

/// <summary>Prints a CRI log to stdout/stderr by stream, optionally following it until a task completes.</summary>
internal static class LogPrinter
{
    public static async Task FollowUntilExitAsync(string path, Task until)
    {
        using var cts = new CancellationTokenSource();
        var stdout = Console.OpenStandardOutput();
        var stderr = Console.OpenStandardError();
        var follow = !until.IsCompleted;
        var printing = Task.Run(async () =>
        {
            await foreach (var entry in CriLogReader.ReadAsync(path, follow, cts.Token))
            {
                var target = entry.Stream == CriStream.Stdout ? stdout : stderr;
                await target.WriteAsync(entry.Content);
                if (!entry.Partial)
                {
                    target.WriteByte((byte)'\n');
                }

                await target.FlushAsync();
            }
        });

        await until;
        cts.CancelAfter(TimeSpan.FromMilliseconds(200));
        try
        {
            await printing;
        }
        catch (OperationCanceledException)
        {
            // Done following.
        }
    }
}
