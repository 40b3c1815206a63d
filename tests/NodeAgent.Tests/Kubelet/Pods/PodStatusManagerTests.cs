using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>The status manager as a writer seam: versioned changes, coalesced per pod, removals included.</summary>
public sealed class PodStatusManagerTests
{
    private readonly PodStatusManager _statuses = new();

    private static V1Pod Pod(string name) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = name + "-uid" },
        Spec = new V1PodSpec { Containers = [] },
    };

    private static V1PodStatus Phase(string phase) => new() { Phase = phase };

    private static List<PodStatusChange> Drain(PodStatusSubscription s)
    {
        var changes = new List<PodStatusChange>();
        while (s.TryRead(out var c))
        {
            changes.Add(c);
        }

        return changes;
    }

    [Fact]
    public void ChangesArriveInOrderWithGrowingVersionsAndAnUnchangedStatusIsNotPublished()
    {
        using var sub = _statuses.Subscribe();
        Assert.True(_statuses.Set(Pod("a"), Phase("Pending")));
        Assert.True(_statuses.Set(Pod("b"), Phase("Pending")));
        Assert.False(_statuses.Set(Pod("a"), Phase("Pending")));

        var changes = Drain(sub);
        Assert.Equal(["a-uid", "b-uid"], changes.Select(c => c.Uid));
        Assert.True(changes[0].Version < changes[1].Version);
        Assert.Equal("Pending", changes[0].Pod!.Status.Phase);
        Assert.Equal(2, _statuses.Version);
    }

    [Fact]
    public void AnUnreadPodCoalescesToItsNewestStatusSoAnOldOneNeverFollowsANewerOne()
    {
        using var sub = _statuses.Subscribe();
        _statuses.Set(Pod("a"), Phase("Pending"));
        var pending = _statuses.GetVersioned("a-uid")!.Version;
        _statuses.Set(Pod("a"), Phase("Running"));
        _statuses.Set(Pod("a"), Phase("Succeeded"));

        var change = Assert.Single(Drain(sub));
        Assert.Equal("Succeeded", change.Pod!.Status.Phase);
        Assert.True(change.Version > pending);
        Assert.Equal(change.Version, _statuses.GetVersioned("a-uid")!.Version);
        Assert.Equal(0, sub.Count);
    }

    [Fact]
    public void RemovalIsNotifiedWithANewerVersion()
    {
        using var sub = _statuses.Subscribe();
        _statuses.Set(Pod("a"), Phase("Running"));
        var set = Assert.Single(Drain(sub));
        _statuses.Remove("a-uid");
        _statuses.Remove("a-uid");

        var removed = Assert.Single(Drain(sub));
        Assert.True(removed.Removed);
        Assert.Equal("a-uid", removed.Uid);
        Assert.True(removed.Version > set.Version);
        Assert.Null(_statuses.Get("a-uid"));
        Assert.Equal(0, _statuses.Count);
    }

    [Fact]
    public async Task ALateSubscriberStartsFromTheCurrentStatusesAndAWaitingReaderWakesOnAChange()
    {
        _statuses.Set(Pod("a"), Phase("Running"));
        using var sub = _statuses.Subscribe();
        Assert.Equal("a-uid", Assert.Single(Drain(sub)).Uid);

        var wait = sub.WaitToReadAsync().AsTask();
        Assert.False(wait.IsCompleted);
        _statuses.Set(Pod("b"), Phase("Pending"));
        Assert.True(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("b-uid", Assert.Single(Drain(sub)).Uid);
    }

    [Fact]
    public async Task ADisposedSubscriptionEndsItsReaderAndReceivesNothingMore()
    {
        var sub = _statuses.Subscribe();
        var wait = sub.WaitToReadAsync().AsTask();
        sub.Dispose();
        Assert.False(await wait.WaitAsync(TimeSpan.FromSeconds(10)));
        _statuses.Set(Pod("a"), Phase("Running"));
        Assert.False(sub.TryRead(out _));
    }
}
