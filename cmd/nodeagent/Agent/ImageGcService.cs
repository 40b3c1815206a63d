using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Images;

namespace NodeAgent.Cli.Agent;

/// <summary>Runs image GC every five minutes (kubelet's ImageGCPeriod), the first pass right at start.</summary>
internal sealed partial class ImageGcService(ImageGarbageCollector gc, TimeProvider time, ILogger<ImageGcService> logger) : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        do
        {
            try
            {
                var result = await gc.CollectAsync(stoppingToken);
                if (result.Removed.Count > 0)
                {
                    LogCollected(result.UsagePercent, result.Removed.Count, result.BytesFreed);
                }
            }
            catch (Exception e) when (e is ImageException or IOException or UnauthorizedAccessException)
            {
                // kubelet's ImageGCFailed: reported, retried on the next period.
                LogFailed(e.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "image GC: usage was {Usage}%, removed {Count} images, {Bytes} bytes")]
    private partial void LogCollected(int usage, int count, long bytes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "image GC failed (ImageGCFailed): {Error}")]
    private partial void LogFailed(string error);
}
