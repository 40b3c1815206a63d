using NodeAgent.Cri;
using NodeAgent.Runtime.Events;

namespace NodeAgent.Tests.Runtime.Events;

/// <summary>Fan-out of runtime events: every subscriber sees every event; a stalled one holds up nobody and is told to resync.</summary>
public sealed class ContainerEventBroadcasterTests
{
    private static ContainerEvent Event(int i) => new(ContainerEventType.Exited, $"c{i}", "s", DateTimeOffset.UnixEpoch.AddSeconds(i));

    [Fact]
    public async Task TwoSubscribersBothSeeEveryEventInOrder()
    {
        using var broadcaster = new ContainerEventBroadcaster();
        using var a = broadcaster.Subscribe();
        using var b = broadcaster.Subscribe();
        for (var i = 0; i < 100; i++)
        {
            broadcaster.Publish(Event(i));
        }

        broadcaster.Dispose();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"c{i}"), await Ids(a));
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"c{i}"), await Ids(b));
    }

    [Fact]
    public async Task AStalledSubscriberDoesNotStopTheOtherAndIsToldToResync()
    {
        using var broadcaster = new ContainerEventBroadcaster(capacity: 4);
        using var stalled = broadcaster.Subscribe();
        using var reader = broadcaster.Subscribe();
        var received = new List<string>();
        for (var i = 0; i < 50; i++)
        {
            // Publish never waits, whatever the stalled subscriber does; the live one keeps up.
            broadcaster.Publish(Event(i));
            Assert.True(reader.Reader.TryRead(out var e));
            received.Add(e!.ContainerId);
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"c{i}"), received);

        // The stalled one lost what overflowed: a Resync, then only what came after it.
        broadcaster.Publish(Event(50));
        broadcaster.Dispose();
        var events = new List<ContainerEvent>();
        await foreach (var e in stalled.Reader.ReadAllAsync())
        {
            events.Add(e);
        }

        Assert.Contains(events, e => e.Type == ContainerEventType.Resync);
        Assert.True(events.Count <= 4, $"{events.Count} events queued for a subscriber of capacity 4");
        Assert.Equal("c50", events[^1].ContainerId);
    }

    [Fact]
    public async Task DisposingASubscriptionUnsubscribesIt()
    {
        using var broadcaster = new ContainerEventBroadcaster();
        var gone = broadcaster.Subscribe();
        using var kept = broadcaster.Subscribe();
        gone.Dispose();
        broadcaster.Publish(Event(1));
        broadcaster.Dispose();
        Assert.Empty(await Ids(gone));
        Assert.Equal(["c1"], await Ids(kept));
    }

    private static async Task<List<string>> Ids(IContainerEventSubscription subscription)
    {
        var ids = new List<string>();
        await foreach (var e in subscription.Reader.ReadAllAsync())
        {
            ids.Add(e.ContainerId);
        }

        return ids;
    }
}
