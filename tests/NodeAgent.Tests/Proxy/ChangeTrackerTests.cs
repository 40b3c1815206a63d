using NodeAgent.Proxy;
using NodeAgent.Tests.Kubelet;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

public class ChangeTrackerTests
{
    private readonly ListLogger<ChangeTrackerTests> _log = new();

    [Fact]
    public void ServiceChangesAreOnlyRecordedUntilApplied()
    {
        var tracker = new ServiceChangeTracker(_log);
        var map = new Dictionary<ServicePortName, ServicePort>();
        var svc = Service("ns", "a", "10.96.0.1", Port("p", 80));

        Assert.True(tracker.Update(null, svc));
        Assert.Empty(map);

        var changed = tracker.Apply(map);
        Assert.Equal([new ServiceName("ns", "a")], changed);
        Assert.Single(map);

        // The same content again (a resync) is no change; a new port is.
        Assert.False(tracker.Update(svc, Service("ns", "a", "10.96.0.1", Port("p", 80))));
        Assert.Empty(tracker.Apply(map));
        Assert.True(tracker.Update(svc, Service("ns", "a", "10.96.0.1", Port("p", 80), Port("q", 81))));
        Assert.Single(tracker.Apply(map));
        Assert.Equal(2, map.Count);

        Assert.True(tracker.Update(svc, null));
        Assert.Single(tracker.Apply(map));
        Assert.Empty(map);
    }

    [Fact]
    public void AChangeUndoneBeforeTheSyncIsNoChange()
    {
        var tracker = new ServiceChangeTracker(_log);
        var map = new Dictionary<ServicePortName, ServicePort>();
        var svc = Service("ns", "a", "10.96.0.1", Port("p", 80));
        tracker.Update(null, svc);
        tracker.Update(svc, null);
        Assert.Empty(tracker.Apply(map));
        Assert.Empty(map);
    }

    [Fact]
    public void ASkippedServiceIsLoggedAndTheOthersStay()
    {
        var tracker = new ServiceChangeTracker(_log);
        var skipped = new List<string>();
        tracker.Invalid += (svc, reason) => skipped.Add(svc.Metadata.Name);
        var map = new Dictionary<ServicePortName, ServicePort>();
        var bad = Service("ns", "bad", "10.96.0.2", Port("p", 80));
        bad.Spec.ExternalIPs = ["not-an-ip"];

        tracker.Update(null, Service("ns", "good", "10.96.0.1", Port("p", 80)));
        tracker.Update(null, bad);
        tracker.Apply(map);

        Assert.Equal(["ns/good:p"], map.Keys.Select(k => k.ToString()));
        Assert.Equal(["bad"], skipped);
        Assert.Contains(_log.Entries, e => e.Message.Contains("ns/bad") && e.Message.Contains("spec.externalIPs"));
    }

    [Fact]
    public void EndpointConditionsFollowTheApiDefaults()
    {
        var tracker = new EndpointsChangeTracker("node-a", _log);
        var map = new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>();
        tracker.Update(Slice("ns", "svc", "svc-1", [SlicePort("p", 8080)],
            Ep("10.1.0.2", ready: null, node: "node-a"),
            Ep("10.1.0.3", ready: false, serving: true, terminating: true, node: "node-b"),
            Ep("10.1.0.4", ready: false)), removed: false);

        var result = tracker.Apply(map);

        Assert.Equal([new ServiceName("ns", "svc")], result.Changed);
        var eps = map[new ServicePortName(new ServiceName("ns", "svc"), "p")];
        Assert.Equal(["10.1.0.2:8080", "10.1.0.3:8080", "10.1.0.4:8080"], eps.Select(e => e.ToString()));
        Assert.Equal((true, true, false, true), (eps[0].Ready, eps[0].Serving, eps[0].Terminating, eps[0].IsLocal));
        Assert.Equal((false, true, true, false), (eps[1].Ready, eps[1].Serving, eps[1].Terminating, eps[1].IsLocal));
        Assert.Equal((false, false, false), (eps[2].Ready, eps[2].Serving, eps[2].Terminating));
    }

    [Fact]
    public void SlicesOfOneServiceMergeAndRemovedEndpointsAreReported()
    {
        var tracker = new EndpointsChangeTracker("n", _log);
        var map = new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>();
        var a = Slice("ns", "svc", "svc-a", [SlicePort("dns", 53, "UDP")], Ep("10.1.0.2"), Ep("10.1.0.3"));
        var b = Slice("ns", "svc", "svc-b", [SlicePort("dns", 53, "UDP")], Ep("10.1.0.3"), Ep("10.1.0.4"));
        tracker.Update(a, removed: false);
        tracker.Update(b, removed: false);
        tracker.Apply(map);
        var port = new ServicePortName(new ServiceName("ns", "svc"), "dns");
        Assert.Equal(["10.1.0.2:53", "10.1.0.3:53", "10.1.0.4:53"], map[port].Select(e => e.ToString()));

        tracker.Update(a, removed: true);
        var result = tracker.Apply(map);

        Assert.Equal(["10.1.0.3:53", "10.1.0.4:53"], map[port].Select(e => e.ToString()));
        Assert.Equal(["10.1.0.2:53"], result.Removed.Select(r => r.Endpoint.ToString()));

        // Applying with nothing pending changes nothing.
        Assert.Empty(tracker.Apply(map).Changed);
    }

    [Fact]
    public void AMalformedSliceIsIgnoredWithALogLineAndThePreviousStateStays()
    {
        var tracker = new EndpointsChangeTracker("n", _log);
        var map = new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>();
        tracker.Update(Slice("ns", "svc", "svc-a", [SlicePort("p", 80)], Ep("10.1.0.2")), removed: false);
        tracker.Apply(map);

        var noLabel = Slice("ns", "svc", "svc-x", [SlicePort("p", 80)], Ep("10.1.0.9"));
        noLabel.Metadata.Labels.Clear();
        Assert.False(tracker.Update(noLabel, removed: false));
        Assert.False(tracker.Update(Slice("ns", "svc", "svc-a", [SlicePort("p", 80)], Ep("10.1.0.300")), removed: false));
        Assert.False(tracker.Update(Slice("ns", "svc", "svc-a", [SlicePort("p", 0)], Ep("10.1.0.5")), removed: false));
        Assert.False(tracker.Update(Slice("ns", "svc", "svc-a", [SlicePort("p", 80)], new k8s.Models.V1Endpoint { Addresses = [] }), removed: false));

        Assert.Empty(tracker.Apply(map).Changed);
        Assert.Equal(["10.1.0.2:80"], map.Values.Single().Select(e => e.ToString()));
        Assert.Equal(4, _log.Entries.Count(e => e.Message.StartsWith("Ignoring EndpointSlice", StringComparison.Ordinal)));
        Assert.Contains(_log.Entries, e => e.Message.Contains("endpoints[0].addresses[0] \"10.1.0.300\""));
    }

    [Fact]
    public void SlicesOfOtherAddressTypesAreNotOurs()
    {
        var tracker = new EndpointsChangeTracker("n", _log);
        var map = new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>();
        var v6 = Slice("ns", "svc", "svc-6", [SlicePort("p", 80)], Ep("fd00::1"));
        v6.AddressType = "IPv6";
        tracker.Update(v6, removed: false);
        Assert.Empty(tracker.Apply(map).Changed);
        Assert.Empty(map);
        Assert.Empty(_log.Entries);
    }
}
