using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>
/// The EndpointSlice controller, for one IPv4 slice per Service with a selector: an endpoint per selected pod that has
/// an IP and a node (finished pods left out), conditions ready (Ready and not terminating), serving (Ready) and
/// terminating (deletionTimestamp set), nodeName and targetRef; ports from the Service with named target ports
/// resolved through the pods' container ports; labels <c>kubernetes.io/service-name</c> and <c>managed-by</c>, an
/// owner reference to the Service. Slices are written only when they change and removed with their Service.
/// </summary>
public sealed class EndpointSliceController(ObjectStore store, TimeProvider time)
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";
    private const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    private const string ManagedBy = "endpointslice-controller.k8s.io";

    public Task RunAsync(CancellationToken ct) => ChangeLoop.RunAsync(store, ["services", "pods"], Sync, ct);

    private void Sync()
    {
        var (services, _) = store.List("services", null, s => s["spec"]?["selector"] is JsonObject { Count: > 0 } && s["spec"]?["type"]?.ToString() != "ExternalName");
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stored in services)
        {
            var svc = stored.Parse();
            var name = SliceName(svc);
            wanted.Add($"{stored.Namespace}/{name}");
            var desired = Desired(svc, stored.Namespace, name);
            store.Write("discovery.k8s.io/endpointslices", stored.Namespace, name, (current, _) =>
            {
                if (current is not null && JsonNode.DeepEquals(current["endpoints"], desired["endpoints"]) && JsonNode.DeepEquals(current["ports"], desired["ports"]))
                {
                    return new StoreChange.Nothing();
                }
                if (current is null)
                {
                    ObjectRules.PrepareForCreate(ResourceCatalog.Get("discovery.k8s.io/endpointslices"), desired, time);
                    return new StoreChange.Put(desired);
                }
                current["endpoints"] = desired["endpoints"]!.DeepClone();
                current["ports"] = desired["ports"]!.DeepClone();
                current["metadata"]!["generation"] = (current["metadata"]!["generation"].AsLong() ?? 0) + 1;
                return new StoreChange.Put(current);
            });
        }
        var (slices, _) = store.List("discovery.k8s.io/endpointslices", null, s => s["metadata"]?["labels"]?[ManagedByLabel]?.ToString() == ManagedBy);
        foreach (var slice in slices.Where(s => !wanted.Contains($"{s.Namespace}/{s.Name}")))
        {
            store.Write("discovery.k8s.io/endpointslices", slice.Namespace, slice.Name, (current, _) =>
                current is null ? new StoreChange.Nothing() : new StoreChange.Remove());
        }
    }

    private static string SliceName(JsonObject svc)
    {
        var name = svc["metadata"]!["name"]!.ToString();
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(svc["metadata"]!["uid"]?.ToString() ?? name)))[..5].ToLowerInvariant();
        return name.Length > 57 ? $"{name[..57]}-{hash}" : $"{name}-{hash}";
    }

    private JsonObject Desired(JsonObject svc, string ns, string sliceName)
    {
        var selector = svc["spec"]!["selector"]!.AsObject();
        var (pods, _) = store.List("pods", ns, p =>
        {
            var labels = p["metadata"]?["labels"] as JsonObject;
            return selector.All(kv => labels?[kv.Key]?.ToString() == kv.Value?.ToString())
                && !string.IsNullOrEmpty(p["status"]?["podIP"]?.ToString())
                && !string.IsNullOrEmpty(p["spec"]?["nodeName"]?.ToString())
                && p["status"]?["phase"]?.ToString() is not ("Succeeded" or "Failed");
        });
        var podObjects = pods.Select(p => p.Parse()).ToList();
        var endpoints = new JsonArray();
        foreach (var pod in podObjects.OrderBy(p => p["metadata"]!["name"]!.ToString(), StringComparer.Ordinal))
        {
            var ready = (pod["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().Any(c => c["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True");
            var terminating = pod["metadata"]?["deletionTimestamp"] is not null;
            endpoints.Add((JsonNode)new JsonObject
            {
                ["addresses"] = new JsonArray(pod["status"]!["podIP"]!.ToString()),
                ["conditions"] = new JsonObject { ["ready"] = ready && !terminating, ["serving"] = ready, ["terminating"] = terminating },
                ["nodeName"] = pod["spec"]!["nodeName"]!.ToString(),
                ["targetRef"] = new JsonObject
                {
                    ["kind"] = "Pod",
                    ["namespace"] = ns,
                    ["name"] = pod["metadata"]!["name"]!.ToString(),
                    ["uid"] = pod["metadata"]!["uid"]?.ToString(),
                },
            });
        }
        var ports = new JsonArray();
        foreach (var port in (svc["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var target = port["targetPort"] ?? port["port"];
            var number = target.AsInt() ?? ResolveNamed(podObjects, target?.ToString() ?? "", port["protocol"]?.ToString() ?? "TCP");
            if (number is null)
            {
                continue;
            }
            var p = new JsonObject { ["name"] = port["name"]?.ToString() ?? "", ["port"] = number, ["protocol"] = port["protocol"]?.ToString() ?? "TCP" };
            if (port["appProtocol"] is { } app)
            {
                p["appProtocol"] = app.DeepClone();
            }
            ports.Add((JsonNode)p);
        }
        var svcName = svc["metadata"]!["name"]!.ToString();
        return new JsonObject
        {
            ["kind"] = "EndpointSlice",
            ["apiVersion"] = "discovery.k8s.io/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = sliceName,
                ["namespace"] = ns,
                ["labels"] = new JsonObject { [ServiceNameLabel] = svcName, [ManagedByLabel] = ManagedBy },
                ["ownerReferences"] = new JsonArray(new JsonObject
                {
                    ["apiVersion"] = "v1",
                    ["kind"] = "Service",
                    ["name"] = svcName,
                    ["uid"] = svc["metadata"]!["uid"]?.ToString(),
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                }),
            },
            ["addressType"] = "IPv4",
            ["endpoints"] = endpoints,
            ["ports"] = ports,
        };
    }

    private static int? ResolveNamed(List<JsonObject> pods, string name, string protocol)
    {
        foreach (var pod in pods)
        {
            foreach (var c in (pod["spec"]?["containers"] as JsonArray ?? []).OfType<JsonObject>())
            {
                foreach (var cp in (c["ports"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    if (cp["name"]?.ToString() == name && (cp["protocol"]?.ToString() ?? "TCP") == protocol)
                    {
                        return cp["containerPort"].AsInt();
                    }
                }
            }
        }
        return null;
    }
}
