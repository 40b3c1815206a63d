using Microsoft.Extensions.Logging;

namespace NodeAgent.Registry;

/// <summary>Counts a pull's bytes and layers (lock-free) and reports them periodically to the caller and the log.</summary>
internal sealed partial class ProgressTracker(string reference, long total, int layers, IProgress<PullProgress>? progress, ILogger logger, TimeProvider time)
{
    private long _done;
    private long _downloaded;
    private int _layersDone;

    public long Downloaded => Interlocked.Read(ref _downloaded);

    public void Read(int n)
    {
        Interlocked.Add(ref _done, n);
        Interlocked.Add(ref _downloaded, n);
    }

    public void Skipped(long size) => Interlocked.Add(ref _done, Math.Max(0, size));

    public void LayerDone() => Interlocked.Increment(ref _layersDone);

    public PullProgress Snapshot(bool completed) =>
        new(reference, Interlocked.Read(ref _done), total, Volatile.Read(ref _layersDone), layers, completed);

    public async Task RunAsync(TimeSpan interval, TimeSpan logInterval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        var lastLog = time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var now = Snapshot(false);
                progress?.Report(now);
                if (time.GetElapsedTime(lastLog) >= logInterval)
                {
                    lastLog = time.GetTimestamp();
                    LogProgress(now.ToString());
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Complete() => progress?.Report(Snapshot(true));

    [LoggerMessage(Level = LogLevel.Information, Message = "pulling {Progress}")]
    private partial void LogProgress(string progress);
}
