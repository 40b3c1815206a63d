using NodeAgent.Cri;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// ExecSync over a session: captures stdout and stderr (each capped), waits for the command's exit, kills its
/// process group when the timeout elapses or the caller cancels. After the exit, output still held open by processes
/// the command left behind is read for at most <see cref="DrainAfterExit"/> more, then the streams are closed.
/// </summary>
internal static class ExecSyncRunner
{
    public static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(2);

    public static async Task<ExecSyncResult> RunAsync(IExecSession session, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var stdout = new CappedOutput(ExecSyncResult.MaxOutputBytes);
        var stderr = new CappedOutput(ExecSyncResult.MaxOutputBytes);
        var pumps = Task.WhenAll(stdout.FillAsync(session.Stdout), session.Stderr is null ? Task.CompletedTask : stderr.FillAsync(session.Stderr));
        var timedOut = false;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            if (timeout > TimeSpan.Zero)
            {
                deadline.CancelAfter(timeout);
            }

            try
            {
                await session.Exited.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                session.Kill();
                timedOut = !cancellationToken.IsCancellationRequested;
            }
        }

        var exitCode = await session.Exited;
        cancellationToken.ThrowIfCancellationRequested();
        await Task.WhenAny(pumps, Task.Delay(DrainAfterExit, CancellationToken.None));
        return new ExecSyncResult
        {
            ExitCode = exitCode,
            Stdout = stdout.ToArray(),
            Stderr = stderr.ToArray(),
            StdoutTruncated = stdout.Truncated,
            StderrTruncated = stderr.Truncated,
            TimedOut = timedOut,
        };
    }
}
