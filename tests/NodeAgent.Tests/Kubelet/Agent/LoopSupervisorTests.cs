using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;

namespace NodeAgent.Tests.Kubelet.Agent;

/// <summary>A loop that stops while the agent runs is remembered by name (for /healthz) and logged; shutdown is not a failure.</summary>
public sealed class LoopSupervisorTests
{
    private readonly ListLogger<LoopSupervisor> _log = new();
    private readonly FixedTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero));

    [Fact]
    public async Task AThrowingLoopIsReportedByNameAndTheOthersKeepRunning()
    {
        var supervisor = new LoopSupervisor(_log, _time);
        using var stop = new CancellationTokenSource();
        var healthy = supervisor.RunAsync("pod config", ct => Task.Delay(Timeout.Infinite, ct), stop.Token);
        await supervisor.RunAsync("pod dispatcher", _ => throw new InvalidOperationException("worker map corrupted"), stop.Token);

        var failure = Assert.Single(supervisor.Failures);
        Assert.Equal("pod dispatcher", failure.Loop);
        Assert.Equal("InvalidOperationException: worker map corrupted", failure.Reason);
        Assert.Equal(_time.Now, failure.At);
        Assert.False(healthy.IsCompleted);
        var (level, message) = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Error, level);
        Assert.Contains("pod dispatcher loop failed", message, StringComparison.Ordinal);

        await stop.CancelAsync();
        await healthy;
        Assert.Single(supervisor.Failures);
    }

    [Fact]
    public async Task ALoopThatReturnsWhileTheAgentRunsIsAFailure()
    {
        var supervisor = new LoopSupervisor(_log, _time);
        await supervisor.RunAsync("runtime events", _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal("runtime events", Assert.Single(supervisor.Failures).Loop);
        Assert.Contains("stopped unexpectedly", Assert.Single(_log.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppingOnShutdownIsNotAFailure()
    {
        var supervisor = new LoopSupervisor(_log, _time);
        using var stop = new CancellationTokenSource();
        var loops = new[]
        {
            supervisor.RunAsync("file source", ct => Task.Delay(Timeout.Infinite, ct), stop.Token),
            supervisor.RunAsync("pod config", async ct =>
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                    // A loop that ends quietly when asked to.
                }
            }, stop.Token),
        };
        await stop.CancelAsync();
        await Task.WhenAll(loops);
        Assert.Empty(supervisor.Failures);
        Assert.Empty(_log.Entries);
    }
}
