using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>
/// The scheduler the scenarios need: a pod without <c>spec.nodeName</c> (and with the default scheduler) is bound to
/// a Ready, schedulable node whose labels match its <c>nodeSelector</c> and whose NoSchedule/NoExecute taints it
/// tolerates, the least loaded first; a <c>Scheduled</c> event is written. A pod that fits nowhere gets
/// <c>PodScheduled=False</c>, reason <c>Unschedulable</c>, and a <c>FailedScheduling</c> event, and is retried on
/// every pod or node change.
/// </summary>
public sealed class Scheduler(ObjectStore store, TimeProvider time)
{
    public Task RunAsync(CancellationToken ct) => ChangeLoop.RunAsync(store, ["pods", "nodes"], SchedulePending, ct);

    private void SchedulePending()
    {
        var (pending, _) = store.List("pods", null, p =>
            string.IsNullOrEmpty(p["spec"]?["nodeName"]?.ToString())
            && p["metadata"]?["deletionTimestamp"] is null
            && (p["spec"]?["schedulerName"]?.ToString() ?? "default-scheduler") == "default-scheduler"
            && p["status"]?["phase"]?.ToString() is null or "Pending");
        if (pending.Count == 0)
        {
            return;
        }
        var (nodes, _) = store.List("nodes", null, _ => true);
        var (bound, _) = store.List("pods", null, p => !string.IsNullOrEmpty(p["spec"]?["nodeName"]?.ToString()));
        var load = bound.GroupBy(p => p.Parse()["spec"]!["nodeName"]!.ToString()).ToDictionary(g => g.Key, g => g.Count());
        var nodeObjects = nodes.Select(n => n.Parse()).ToList();
        foreach (var stored in pending)
        {
            var pod = stored.Parse();
            var reasons = new Dictionary<string, int>();
            var fits = nodeObjects.Where(n => Fits(pod, n, reasons)).ToList();
            if (fits.Count == 0)
            {
                MarkUnschedulable(stored, nodeObjects.Count, reasons);
                continue;
            }
            var chosen = fits.OrderBy(n => load.GetValueOrDefault(n["metadata"]!["name"]!.ToString())).ThenBy(n => n["metadata"]!["name"]!.ToString(), StringComparer.Ordinal).First();
            var nodeName = chosen["metadata"]!["name"]!.ToString();
            if (Bind(stored, nodeName))
            {
                load[nodeName] = load.GetValueOrDefault(nodeName) + 1;
                WriteEvent(pod, "Normal", "Scheduled", $"Successfully assigned {stored.Namespace}/{stored.Name} to {nodeName}");
            }
        }
    }

    private static bool Fits(JsonObject pod, JsonObject node, Dictionary<string, int> reasons)
    {
        void Fail(string reason) => reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
        var ready = (node["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>()
            .Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True");
        if (!ready)
        {
            Fail("node(s) were not ready");
            return false;
        }
        if (node["spec"]?["unschedulable"].AsBool() == true)
        {
            Fail("node(s) were unschedulable");
            return false;
        }
        var labels = node["metadata"]?["labels"] as JsonObject ?? [];
        foreach (var (key, value) in pod["spec"]?["nodeSelector"] as JsonObject ?? [])
        {
            if (labels[key]?.ToString() != value?.ToString())
            {
                Fail("node(s) didn't match Pod's node affinity/selector");
                return false;
            }
        }
        var tolerations = (pod["spec"]?["tolerations"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        foreach (var taint in (node["spec"]?["taints"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var effect = taint["effect"]?.ToString();
            if (effect is not ("NoSchedule" or "NoExecute") || tolerations.Any(t => Tolerates(t, taint)))
            {
                continue;
            }
            Fail($"node(s) had untolerated taint {{{taint["key"]}: {taint["value"]}}}".Replace(": }", "}"));
            return false;
        }
        return true;
    }

    /// <summary>v1 Toleration.ToleratesTaint.</summary>
    private static bool Tolerates(JsonObject t, JsonObject taint)
    {
        var effect = t["effect"]?.ToString();
        if (!string.IsNullOrEmpty(effect) && effect != taint["effect"]?.ToString())
        {
            return false;
        }
        var key = t["key"]?.ToString() ?? "";
        if (key.Length > 0 && key != taint["key"]?.ToString())
        {
            return false;
        }
        return (t["operator"]?.ToString() ?? "Equal") switch
        {
            "Exists" => true,
            "Equal" => (t["value"]?.ToString() ?? "") == (taint["value"]?.ToString() ?? "") && key.Length > 0,
            _ => false,
        };
    }

    private bool Bind(StoredObject stored, string nodeName)
    {
        var bound = false;
        store.Write("pods", stored.Namespace, stored.Name, (current, old) =>
        {
            if (current is null || old!.ResourceVersion != stored.ResourceVersion || !string.IsNullOrEmpty(current["spec"]?["nodeName"]?.ToString()))
            {
                return new StoreChange.Nothing();
            }
            current["spec"]!["nodeName"] = nodeName;
            SetScheduledCondition(current, "True", null, null);
            bound = true;
            return new StoreChange.Put(current);
        });
        return bound;
    }

    private void MarkUnschedulable(StoredObject stored, int nodeCount, Dictionary<string, int> reasons)
    {
        var detail = string.Join(", ", reasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Value} {r.Key}"));
        var message = nodeCount == 0 ? "no nodes available to schedule pods" : $"0/{nodeCount} nodes are available: {detail}.";
        var changed = false;
        store.Write("pods", stored.Namespace, stored.Name, (current, old) =>
        {
            if (current is null || old!.ResourceVersion != stored.ResourceVersion)
            {
                return new StoreChange.Nothing();
            }
            var existing = (current["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(c => c["type"]?.ToString() == "PodScheduled");
            if (existing?["message"]?.ToString() == message && existing["status"]?.ToString() == "False")
            {
                return new StoreChange.Nothing();
            }
            SetScheduledCondition(current, "False", "Unschedulable", message);
            changed = true;
            return new StoreChange.Put(current);
        });
        if (changed)
        {
            WriteEvent(stored.Parse(), "Warning", "FailedScheduling", message);
        }
    }

    private void SetScheduledCondition(JsonObject pod, string status, string? reason, string? message)
    {
        var podStatus = pod["status"] as JsonObject ?? new JsonObject();
        pod["status"] = podStatus;
        var conditions = podStatus["conditions"] as JsonArray ?? new JsonArray();
        podStatus["conditions"] = conditions;
        foreach (var old in conditions.OfType<JsonObject>().Where(c => c["type"]?.ToString() == "PodScheduled").ToList())
        {
            conditions.Remove(old);
        }
        var condition = new JsonObject
        {
            ["type"] = "PodScheduled",
            ["status"] = status,
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = ObjectRules.Timestamp(time.GetUtcNow()),
        };
        if (reason is not null)
        {
            condition["reason"] = reason;
            condition["message"] = message;
        }
        conditions.Add((JsonNode)condition);
    }

    private void WriteEvent(JsonObject pod, string type, string reason, string message)
    {
        var ns = pod["metadata"]!["namespace"]!.ToString();
        var name = $"{pod["metadata"]!["name"]}.{Guid.NewGuid():N}"[..Math.Min(253, pod["metadata"]!["name"]!.ToString().Length + 17)];
        var now = ObjectRules.Timestamp(time.GetUtcNow());
        store.Write("events", ns, name, (current, _) =>
        {
            if (current is not null)
            {
                return new StoreChange.Nothing();
            }
            var e = new JsonObject
            {
                ["kind"] = "Event",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = ns },
                ["involvedObject"] = new JsonObject
                {
                    ["kind"] = "Pod",
                    ["namespace"] = ns,
                    ["name"] = pod["metadata"]!["name"]!.ToString(),
                    ["uid"] = pod["metadata"]!["uid"]?.ToString(),
                    ["apiVersion"] = "v1",
                    ["resourceVersion"] = pod["metadata"]!["resourceVersion"]?.ToString(),
                },
                ["reason"] = reason,
                ["message"] = message,
                ["source"] = new JsonObject { ["component"] = "default-scheduler" },
                ["firstTimestamp"] = now,
                ["lastTimestamp"] = now,
                ["count"] = 1,
                ["type"] = type,
                ["reportingComponent"] = "default-scheduler",
                ["reportingInstance"] = "default-scheduler",
            };
            ObjectRules.PrepareForCreate(ResourceCatalog.Get("events"), e, time);
            return new StoreChange.Put(e);
        });
    }
}
