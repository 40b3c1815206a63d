using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>
/// The node lifecycle controller's health part: a node whose Lease (<c>kube-node-lease/NAME</c> renewTime) and Ready
/// heartbeat have not moved for the grace period (40 s) gets its conditions set to Unknown ("Kubelet stopped posting
/// node status.", or "never posted" for a node that never had a Ready condition). Taints follow Ready: Unknown gives
/// <c>node.kubernetes.io/unreachable</c>, False gives <c>node.kubernetes.io/not-ready</c>, each NoSchedule and
/// NoExecute; True removes them. Heartbeats are timed when this controller observes them, as upstream does.
/// </summary>
public sealed class NodeLifecycleController(ObjectStore store, TimeProvider time, TimeSpan gracePeriod)
{
    private static readonly string[] ConditionTypes = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];
    private readonly Dictionary<string, (string Probe, DateTimeOffset ObservedAt)> _observed = new(StringComparer.Ordinal);

    public async Task RunAsync(CancellationToken ct)
    {
        var period = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(100).Ticks, gracePeriod.Ticks / 8));
        using var timer = new PeriodicTimer(period, time);
        try
        {
            do
            {
                Check();
            }
            while (await timer.WaitForNextTickAsync(ct));
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Check()
    {
        var now = time.GetUtcNow();
        var (nodes, _) = store.List("nodes", null, _ => true);
        foreach (var name in _observed.Keys.Where(k => nodes.All(n => n.Name != k)).ToList())
        {
            _observed.Remove(name);
        }
        foreach (var stored in nodes)
        {
            var node = stored.Parse();
            var ready = Condition(node, "Ready");
            var lease = store.Get("coordination.k8s.io/leases", "kube-node-lease", stored.Name)?.Parse();
            var probe = $"{lease?["spec"]?["renewTime"]}|{ready?["lastHeartbeatTime"]}|{ready?["status"]}";
            if (!_observed.TryGetValue(stored.Name, out var seen) || seen.Probe != probe)
            {
                seen = (probe, now);
                _observed[stored.Name] = seen;
            }
            var stale = now - seen.ObservedAt > gracePeriod;
            store.Write("nodes", "", stored.Name, (current, _) =>
            {
                if (current is null)
                {
                    return new StoreChange.Nothing();
                }
                var changed = false;
                if (stale && Condition(current, "Ready")?["status"]?.ToString() != "Unknown")
                {
                    MarkUnknown(current, Condition(current, "Ready") is null, now);
                    changed = true;
                    // Our own write must not count as a heartbeat.
                    var readyNow = Condition(current, "Ready");
                    _observed[stored.Name] = ($"{lease?["spec"]?["renewTime"]}|{readyNow?["lastHeartbeatTime"]}|{readyNow?["status"]}", seen.ObservedAt);
                }
                changed |= ReconcileTaints(current, now);
                return changed ? new StoreChange.Put(current) : new StoreChange.Nothing();
            });
        }
    }

    private static JsonObject? Condition(JsonObject node, string type) =>
        (node["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == type);

    private static void MarkUnknown(JsonObject node, bool never, DateTimeOffset now)
    {
        var status = node["status"] as JsonObject ?? new JsonObject();
        node["status"] = status;
        var conditions = status["conditions"] as JsonArray ?? new JsonArray();
        status["conditions"] = conditions;
        var ts = ObjectRules.Timestamp(now);
        foreach (var type in ConditionTypes)
        {
            var c = Condition(node, type);
            if (c is null)
            {
                if (type != "Ready")
                {
                    continue;
                }
                c = new JsonObject { ["type"] = type, ["lastHeartbeatTime"] = ts };
                conditions.Add((JsonNode)c);
            }
            c["status"] = "Unknown";
            c["reason"] = "NodeStatusUnknown";
            c["message"] = never ? "Kubelet never posted node status." : "Kubelet stopped posting node status.";
            c["lastTransitionTime"] = ts;
        }
    }

    private static bool ReconcileTaints(JsonObject node, DateTimeOffset now)
    {
        var ready = Condition(node, "Ready")?["status"]?.ToString();
        var wantKey = ready switch { "Unknown" => "node.kubernetes.io/unreachable", "False" => "node.kubernetes.io/not-ready", _ => null };
        var spec = node["spec"] as JsonObject ?? new JsonObject();
        var taints = (spec["taints"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var managed = new[] { "node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready" };
        var keep = taints.Where(t => !managed.Contains(t["key"]?.ToString())).ToList();
        var current = taints.Where(t => managed.Contains(t["key"]?.ToString())).ToList();
        var desiredEffects = wantKey is null ? [] : new[] { "NoSchedule", "NoExecute" };
        var same = current.Count == desiredEffects.Length
            && current.All(t => t["key"]?.ToString() == wantKey && desiredEffects.Contains(t["effect"]?.ToString()));
        if (same)
        {
            return false;
        }
        var result = new JsonArray(keep.Select(t => (JsonNode?)t.DeepClone()).ToArray());
        foreach (var effect in desiredEffects)
        {
            var taint = new JsonObject { ["key"] = wantKey, ["effect"] = effect };
            if (effect == "NoExecute")
            {
                taint["timeAdded"] = ObjectRules.Timestamp(now);
            }
            result.Add((JsonNode)taint);
        }
        if (result.Count == 0)
        {
            spec.Remove("taints");
        }
        else
        {
            spec["taints"] = result;
        }
        node["spec"] = spec;
        return true;
    }
}
