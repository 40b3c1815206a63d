using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>Loop health for /healthz: survived errors keep a loop healthy, a loop that ends is failed until restarted.</summary>
public sealed class LoopHealthTests
{
    [Fact]
    public void SurvivedErrorsStayHealthyAFailedLoopDoesNotAndForgottenLoopsGo()
    {
        var health = new LoopHealth();
        health.Running("a");
        health.Survived("a", "pod x: bad");
        Assert.True(health.IsHealthy);
        Assert.Equal("pod x: bad", health.Get("a")!.LastError);

        health.Failed("b", "NullReferenceException: boom");
        Assert.False(health.IsHealthy);
        Assert.Equal("b", Assert.Single(health.FailedLoops).Name);

        health.Running("b");
        Assert.True(health.IsHealthy);
        health.Forget("a");
        health.Forget("b");
        Assert.Equal(0, health.Count);
    }

    [Fact]
    public async Task ASupervisedLoopThatThrowsIsMarkedFailedThenRestarted()
    {
        var health = new LoopHealth();
        using var stop = new CancellationTokenSource();
        var runs = 0;
        var secondRun = new TaskCompletionSource<LoopStatus>(TaskCreationOptions.RunContinuationsAsynchronously);
        var supervised = health.SuperviseAsync("dispatcher", async token =>
        {
            if (Interlocked.Increment(ref runs) == 1)
            {
                await Task.Yield();
                throw new InvalidOperationException("one bad input");
            }

            secondRun.TrySetResult(health.Get("dispatcher")!);
            await Task.Delay(Timeout.Infinite, token);
        }, stop.Token);

        var restarted = await secondRun.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(LoopState.Running, restarted.State);
        Assert.Equal(1, restarted.Restarts);
        Assert.Equal("InvalidOperationException: one bad input", restarted.LastError);
        await stop.CancelAsync();
        await supervised.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(2, runs);
        Assert.True(health.IsHealthy);
    }
}
