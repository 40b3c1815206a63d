using System.Globalization;
using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Server-side printing (<c>meta.k8s.io/v1 Table</c>) as kubectl asks for it: pods and nodes with the real server's
/// columns (pkg/printers/internalversion), as are CertificateSigningRequests and namespaces; NAME/AGE for the other types.
/// </summary>
public static class Tables
{
    public static JsonObject Build(ResourceInfo resource, IEnumerable<JsonObject> objects, long resourceVersion, string? cont, bool includeObject, TimeProvider time, bool headers = true)
    {
        var now = time.GetUtcNow();
        var rows = new JsonArray();
        foreach (var obj in objects)
        {
            var cells = resource.Plural switch
            {
                "pods" => PodCells(obj, now),
                "nodes" => NodeCells(obj, now),
                "certificatesigningrequests" => CsrCells(obj, now),
                "namespaces" => new JsonArray(Name(obj), obj["status"]?["phase"]?.ToString() ?? "", Age(obj, now)),
                _ => new JsonArray(Name(obj), Age(obj, now)),
            };
            rows.Add(new JsonObject
            {
                ["cells"] = cells,
                ["object"] = includeObject ? obj : PartialMetadata(obj),
            });
        }
        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
        };
        if (cont is not null)
        {
            table["metadata"]!["continue"] = cont;
        }
        if (headers)
        {
            table["columnDefinitions"] = Columns(resource);
        }
        table["rows"] = rows;
        return table;
    }

    private static JsonObject PartialMetadata(JsonObject obj) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = obj["metadata"]?.DeepClone(),
    };

    private static JsonArray Columns(ResourceInfo resource)
    {
        static JsonObject Col(string name, string type, int priority, string description, string format = "") => new()
        {
            ["name"] = name,
            ["type"] = type,
            ["format"] = format,
            ["description"] = description,
            ["priority"] = priority,
        };
        const string nameDoc = "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
        const string ageDoc = "CreationTimestamp is a timestamp representing the server time when this object was created.";
        return resource.Plural switch
        {
            "pods" => new JsonArray(
                Col("Name", "string", 0, nameDoc, "name"),
                Col("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."),
                Col("Status", "string", 0, "The aggregate status of the containers in this pod."),
                Col("Restarts", "string", 0, "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                Col("Age", "string", 0, ageDoc),
                Col("IP", "string", 1, "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."),
                Col("Node", "string", 1, "NodeName is a request to schedule this pod onto a specific node."),
                Col("Nominated Node", "string", 1, "nominatedNodeName is set only when this pod preempts other pods on the node."),
                Col("Readiness Gates", "string", 1, "If specified, all readiness gates will be evaluated for pod readiness.")),
            "nodes" => new JsonArray(
                Col("Name", "string", 0, nameDoc, "name"),
                Col("Status", "string", 0, "The status of the node"),
                Col("Roles", "string", 0, "The roles of the node"),
                Col("Age", "string", 0, ageDoc),
                Col("Version", "string", 0, "Kubelet Version reported by the node."),
                Col("Internal-IP", "string", 1, "List of internal IPs for the node"),
                Col("External-IP", "string", 1, "List of external IPs for the node"),
                Col("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy))."),
                Col("Kernel-Version", "string", 1, "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64)."),
                Col("Container-Runtime", "string", 1, "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).")),
            "certificatesigningrequests" => new JsonArray(
                Col("Name", "string", 0, nameDoc, "name"),
                Col("Age", "string", 0, ageDoc),
                Col("SignerName", "string", 0, "Only one signer is allowed per CSR."),
                Col("Requestor", "string", 0, "Name of the user that created the request."),
                Col("RequestedDuration", "string", 0, "The requested duration of the issued certificate."),
                Col("Condition", "string", 0, "The conditions of the request and whether a certificate was issued.")),
            "namespaces" => new JsonArray(
                Col("Name", "string", 0, nameDoc, "name"),
                Col("Status", "string", 0, "The status of the namespace"),
                Col("Age", "string", 0, ageDoc)),
            _ => new JsonArray(Col("Name", "string", 0, nameDoc, "name"), Col("Age", "string", 0, ageDoc)),
        };
    }

    private static string Name(JsonObject obj) => obj["metadata"]?["name"]?.ToString() ?? "";

    private static string Age(JsonObject obj, DateTimeOffset now) =>
        obj["metadata"]?["creationTimestamp"]?.ToString() is { } ts && DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created)
            ? HumanDuration(now - created)
            : "<unknown>";

    private static JsonArray PodCells(JsonObject pod, DateTimeOffset now)
    {
        var status = pod["status"] as JsonObject;
        var spec = pod["spec"] as JsonObject;
        var total = (spec?["containers"] as JsonArray)?.Count ?? 0;
        var reason = status?["reason"]?.ToString() is { Length: > 0 } r ? r : status?["phase"]?.ToString() ?? "";
        var ready = 0;
        var restarts = 0;
        var sidecarRestarts = 0;
        DateTimeOffset? lastRestart = null;
        DateTimeOffset? lastSidecarRestart = null;
        var initializing = false;
        var initStatuses = status?["initContainerStatuses"] as JsonArray ?? [];
        var initSpecs = (spec?["initContainers"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var initTotal = initSpecs.Count;
        // Sidecars (restartPolicy Always) count among the pod's containers.
        var sidecars = initSpecs.Where(c => c["restartPolicy"]?.ToString() == "Always").Select(c => c["name"]?.ToString()).ToHashSet(StringComparer.Ordinal);
        total += sidecars.Count;
        for (var i = 0; i < initStatuses.Count; i++)
        {
            var c = initStatuses[i] as JsonObject;
            restarts += c?["restartCount"].AsInt() ?? 0;
            Later(ref lastRestart, c);
            var sidecar = sidecars.Contains(c?["name"]?.ToString());
            if (sidecar)
            {
                sidecarRestarts += c?["restartCount"].AsInt() ?? 0;
                Later(ref lastSidecarRestart, c);
            }
            var terminated = c?["state"]?["terminated"] as JsonObject;
            if (terminated is not null && (terminated["exitCode"].AsInt() ?? 0) == 0)
            {
                continue;
            }
            if (sidecar && c?["started"].AsBool() == true)
            {
                ready += c["ready"].AsBool() == true ? 1 : 0;
                continue;
            }
            initializing = true;
            if (terminated is not null)
            {
                reason = terminated["reason"]?.ToString() is { Length: > 0 } tr ? "Init:" + tr
                    : terminated["signal"].AsInt() is int sig and not 0 ? $"Init:Signal:{sig}" : $"Init:ExitCode:{terminated["exitCode"]}";
            }
            else if (c?["state"]?["waiting"]?["reason"]?.ToString() is { Length: > 0 } wr && wr != "PodInitializing")
            {
                reason = "Init:" + wr;
            }
            else
            {
                reason = $"Init:{i}/{initTotal}";
            }
            break;
        }
        var conditions = (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        bool ConditionTrue(string type) => conditions.Any(c => c["type"]?.ToString() == type && c["status"]?.ToString() == "True");
        if (!initializing || ConditionTrue("Initialized"))
        {
            restarts = sidecarRestarts;
            lastRestart = lastSidecarRestart;
            var hasRunning = false;
            foreach (var c in (status?["containerStatuses"] as JsonArray ?? []).OfType<JsonObject>().Reverse())
            {
                restarts += c["restartCount"].AsInt() ?? 0;
                Later(ref lastRestart, c);
                var state = c["state"] as JsonObject;
                if (state?["waiting"]?["reason"]?.ToString() is { Length: > 0 } wr)
                {
                    reason = wr;
                }
                else if (state?["terminated"] is JsonObject t)
                {
                    reason = t["reason"]?.ToString() is { Length: > 0 } tr ? tr
                        : t["signal"].AsInt() is int sig and not 0 ? $"Signal:{sig}" : $"ExitCode:{t["exitCode"]}";
                }
                else if (state?["running"] is not null && c["ready"].AsBool() == true)
                {
                    hasRunning = true;
                    ready++;
                }
            }
            if (reason == "Completed" && hasRunning)
            {
                reason = ConditionTrue("Ready") ? "Running" : "NotReady";
            }
        }
        if (pod["metadata"]?["deletionTimestamp"] is not null && status?["reason"]?.ToString() == "NodeLost")
        {
            reason = "Unknown";
        }
        else if (pod["metadata"]?["deletionTimestamp"] is not null && status?["phase"]?.ToString() is not ("Succeeded" or "Failed"))
        {
            reason = "Terminating";
        }
        var gates = spec?["readinessGates"] as JsonArray;
        var gateText = "<none>";
        if (gates is { Count: > 0 })
        {
            var met = gates.OfType<JsonObject>().Count(g => conditions.Any(c => c["type"]?.ToString() == g["conditionType"]?.ToString() && c["status"]?.ToString() == "True"));
            gateText = $"{met}/{gates.Count}";
        }
        return new JsonArray(
            Name(pod), $"{ready}/{total}", reason,
            // kubectl's "3 (25s ago)": the restarts, and how long ago the newest last state finished.
            restarts.ToString(CultureInfo.InvariantCulture) + (restarts != 0 && lastRestart is { } last ? $" ({HumanDuration(now - last)} ago)" : ""),
            Age(pod, now),
            status?["podIP"]?.ToString() is { Length: > 0 } ip ? ip : "<none>",
            spec?["nodeName"]?.ToString() is { Length: > 0 } node ? node : "<none>",
            status?["nominatedNodeName"]?.ToString() is { Length: > 0 } nn ? nn : "<none>",
            gateText);
    }

    // The newest lastState.terminated.finishedAt so far (kubectl's lastRestartDate).
    private static void Later(ref DateTimeOffset? latest, JsonObject? status)
    {
        if (status?["lastState"]?["terminated"]?["finishedAt"]?.ToString() is { } ts
            && DateTimeOffset.TryParse(ts, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var finished)
            && (latest is null || finished > latest))
        {
            latest = finished;
        }
    }

    private static JsonArray CsrCells(JsonObject csr, DateTimeOffset now)
    {
        var conditions = (csr["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Select(c => c["type"]?.ToString() ?? "").ToList();
        if (csr["status"]?["certificate"]?.ToString() is { Length: > 0 })
        {
            conditions.Add("Issued");
        }
        var requested = csr["spec"]?["expirationSeconds"].AsLong() is { } seconds ? HumanDuration(TimeSpan.FromSeconds(seconds)) : "<none>";
        return new JsonArray(Name(csr), Age(csr, now), csr["spec"]?["signerName"]?.ToString() ?? "", csr["spec"]?["username"]?.ToString() ?? "",
            requested, conditions.Count == 0 ? "Pending" : string.Join(",", conditions));
    }

    private static JsonArray NodeCells(JsonObject node, DateTimeOffset now)
    {
        var status = node["status"] as JsonObject;
        var conditions = (status?["conditions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var readyCondition = conditions.FirstOrDefault(c => c["type"]?.ToString() == "Ready");
        var state = readyCondition?["status"]?.ToString() switch
        {
            "True" => "Ready",
            "False" => "NotReady",
            _ => "Unknown",
        };
        if (node["spec"]?["unschedulable"].AsBool() == true)
        {
            state += ",SchedulingDisabled";
        }
        var roles = (node["metadata"]?["labels"] as JsonObject ?? [])
            .Select(kv => kv.Key)
            .Where(k => k.StartsWith("node-role.kubernetes.io/", StringComparison.Ordinal))
            .Select(k => k["node-role.kubernetes.io/".Length..])
            .Where(k => k.Length > 0)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (node["metadata"]?["labels"]?["kubernetes.io/role"]?.ToString() is { Length: > 0 } legacy)
        {
            roles.Add(legacy);
        }
        var addresses = (status?["addresses"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        string Address(string type) => addresses.FirstOrDefault(a => a["type"]?.ToString() == type)?["address"]?.ToString() is { Length: > 0 } a ? a : "<none>";
        var info = status?["nodeInfo"] as JsonObject;
        string Info(string key) => info?[key]?.ToString() is { Length: > 0 } v ? v : "<unknown>";
        return new JsonArray(
            Name(node), state, roles.Count == 0 ? "<none>" : string.Join(",", roles), Age(node, now),
            info?["kubeletVersion"]?.ToString() ?? "",
            Address("InternalIP"), Address("ExternalIP"), Info("osImage"), Info("kernelVersion"), Info("containerRuntimeVersion"));
    }

    /// <summary>k8s.io/apimachinery/pkg/util/duration.HumanDuration.</summary>
    public static string HumanDuration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1) return "<invalid>";
        if (seconds < 0) return "0s";
        if (seconds < 120) return $"{seconds}s";
        var minutes = (long)d.TotalMinutes;
        if (minutes < 10) return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        if (minutes < 180) return $"{minutes}m";
        var hours = (long)d.TotalHours;
        if (hours < 8) return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        if (hours < 48) return $"{hours}h";
        if (hours < 24 * 8) return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        if (hours < 24 * 365 * 2) return $"{hours / 24}d";
        if (hours < 24 * 365 * 8) return (hours / 24) % 365 == 0 ? $"{hours / 24 / 365}y" : $"{hours / 24 / 365}y{(hours / 24) % 365}d";
        return $"{hours / 24 / 365}y";
    }
}
