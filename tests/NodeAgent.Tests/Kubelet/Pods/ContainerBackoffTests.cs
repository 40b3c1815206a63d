using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>kubelet's crash-loop backoff: 10 s doubling to 300 s, reset after 10 minutes.</summary>
public class ContainerBackoffTests
{
    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void DelaysDoubleUpToFiveMinutes()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var backoff = new ContainerBackoff(time);
        var delays = Enumerable.Range(0, 7).Select(_ => backoff.Next("p/c").TotalSeconds).ToList();
        Assert.Equal([10, 20, 40, 80, 160, 300, 300], delays);
    }

    [Fact]
    public void FirstRestartIsImmediateThenWaitsForTheDelay()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var backoff = new ContainerBackoff(time);
        Assert.False(backoff.IsInBackoff("p/c", time.Now, out _));
        backoff.Next("p/c");
        var exit = time.Now;
        Assert.True(backoff.IsInBackoff("p/c", exit, out var remaining));
        Assert.Equal(TimeSpan.FromSeconds(10), remaining);
        time.Now += TimeSpan.FromSeconds(10);
        Assert.False(backoff.IsInBackoff("p/c", exit, out _));
    }

    [Fact]
    public void TenQuietMinutesResetTheDelay()
    {
        var time = new ManualTime(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
        var backoff = new ContainerBackoff(time);
        backoff.Next("p/c");
        backoff.Next("p/c");
        time.Now += TimeSpan.FromMinutes(11);
        Assert.Equal(TimeSpan.FromSeconds(10), backoff.Next("p/c"));
    }

    [Fact]
    public void ForgetDropsAllContainersOfAPod()
    {
        var backoff = new ContainerBackoff(TimeProvider.System);
        backoff.Next(ContainerBackoff.Key("uid1", "a"));
        backoff.Next(ContainerBackoff.Key("uid2", "a"));
        backoff.Forget("uid1");
        Assert.Equal(TimeSpan.Zero, backoff.Current(ContainerBackoff.Key("uid1", "a")));
        Assert.NotEqual(TimeSpan.Zero, backoff.Current(ContainerBackoff.Key("uid2", "a")));
    }
}
