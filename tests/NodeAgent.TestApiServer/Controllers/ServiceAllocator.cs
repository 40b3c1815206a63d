using System.Net;
using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>
/// What the Service REST storage does on create and update: a ClusterIP from the service CIDR (10.96.0.0/12; .1 is
/// the <c>kubernetes</c> service) unless headless or ExternalName, NodePorts from 30000–32767 for NodePort and
/// LoadBalancer services, requested values checked for range and collisions (422 "provided … is already
/// allocated"), and both kept across updates (a ClusterIP may not change).
/// </summary>
public sealed class ServiceAllocator(ObjectStore store)
{
    private const uint Base = (10u << 24) | (96u << 16);
    private const uint Size = 1u << 20;
    public const int NodePortMin = 30000;
    public const int NodePortMax = 32767;

    /// <summary>Fills in the allocations of a service being created or updated (<paramref name="old"/> null on create). Runs under the store's lock.</summary>
    public void Allocate(ResourceInfo r, JsonObject svc, JsonObject? old)
    {
        var spec = svc["spec"] as JsonObject ?? new JsonObject();
        svc["spec"] = spec;
        var name = svc["metadata"]?["name"]?.ToString() ?? "";
        var ns = svc["metadata"]?["namespace"]?.ToString() ?? "";
        var type = spec["type"]?.ToString() ?? "ClusterIP";
        spec["type"] = type;
        spec["sessionAffinity"] ??= "None";
        if (type is not ("ClusterIP" or "NodePort" or "LoadBalancer" or "ExternalName"))
        {
            throw ApiError.Invalid(r, name, ("spec.type", "FieldValueNotSupported", $"Unsupported value: \"{type}\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""));
        }
        var (others, _) = store.List("services", null, s => !(s["metadata"]?["namespace"]?.ToString() == ns && s["metadata"]?["name"]?.ToString() == name));
        var parsed = others.Select(o => o.Parse()).ToList();
        var usedIps = parsed.Select(s => s["spec"]?["clusterIP"]?.ToString()).Where(ip => ip is { Length: > 0 } and not "None").ToHashSet();
        var usedPorts = parsed.SelectMany(s => (s["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>()).Select(p => p["nodePort"].AsInt()).Where(p => p is > 0).ToHashSet();

        var oldIp = old?["spec"]?["clusterIP"]?.ToString();
        var ip = spec["clusterIP"]?.ToString();
        if (string.IsNullOrEmpty(ip) && !string.IsNullOrEmpty(oldIp))
        {
            ip = oldIp;
        }
        if (!string.IsNullOrEmpty(oldIp) && ip != oldIp)
        {
            throw ApiError.Invalid(r, name, ("spec.clusterIPs[0]", "FieldValueInvalid", $"Invalid value: []string{{\"{ip}\"}}: may not change once set"));
        }
        if (type == "ExternalName")
        {
            spec.Remove("clusterIP");
        }
        else if (ip == "None")
        {
            spec["clusterIPs"] = new JsonArray("None");
        }
        else
        {
            if (string.IsNullOrEmpty(ip))
            {
                ip = FreeIp(usedIps);
            }
            else if (ip != oldIp)
            {
                if (!IPAddress.TryParse(ip, out var parsedIp) || !InRange(parsedIp))
                {
                    throw ApiError.Invalid(r, name, ("spec.clusterIPs", "FieldValueInvalid", $"Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is 10.96.0.0/12"));
                }
                if (usedIps.Contains(ip))
                {
                    throw ApiError.Invalid(r, name, ("spec.clusterIPs", "FieldValueInvalid", $"Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: provided IP is already allocated"));
                }
            }
            spec["clusterIP"] = ip;
            spec["clusterIPs"] = new JsonArray(ip);
            spec["ipFamilies"] = new JsonArray("IPv4");
            spec["ipFamilyPolicy"] = "SingleStack";
            spec["internalTrafficPolicy"] ??= "Cluster";
        }
        var oldPorts = (old?["spec"]?["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var ports = (spec["ports"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports[i];
            port["protocol"] ??= "TCP";
            port["targetPort"] ??= port["port"]?.DeepClone();
            if (type is "NodePort" or "LoadBalancer")
            {
                var requested = port["nodePort"].AsInt() ?? 0;
                var previous = oldPorts.FirstOrDefault(o => o["port"].AsInt() == port["port"].AsInt() && o["protocol"]?.ToString() == port["protocol"]?.ToString())?["nodePort"].AsInt();
                if (requested == 0)
                {
                    requested = previous ?? FreePort(usedPorts);
                }
                else if (requested != previous)
                {
                    if (requested is < NodePortMin or > NodePortMax)
                    {
                        throw ApiError.Invalid(r, name, ($"spec.ports[{i}].nodePort", "FieldValueInvalid", $"Invalid value: {requested}: provided port is not in the valid range. The range of valid ports is {NodePortMin}-{NodePortMax}"));
                    }
                    if (usedPorts.Contains(requested))
                    {
                        throw ApiError.Invalid(r, name, ($"spec.ports[{i}].nodePort", "FieldValueInvalid", $"Invalid value: {requested}: provided port is already allocated"));
                    }
                }
                port["nodePort"] = requested;
                usedPorts.Add(requested);
                spec["externalTrafficPolicy"] ??= "Cluster";
            }
            else
            {
                port.Remove("nodePort");
            }
        }
    }

    private static bool InRange(IPAddress ip)
    {
        var b = ip.GetAddressBytes();
        if (b.Length != 4)
        {
            return false;
        }
        var v = ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
        return v > Base && v < Base + Size - 1;
    }

    private static string FreeIp(HashSet<string?> used)
    {
        for (var attempt = 0; attempt < 10000; attempt++)
        {
            var v = Base + 2 + (uint)Random.Shared.Next((int)Size - 3);
            var ip = new IPAddress([(byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v]).ToString();
            if (!used.Contains(ip))
            {
                return ip;
            }
        }
        throw new ApiError(500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full");
    }

    private static int FreePort(HashSet<int?> used)
    {
        for (var attempt = 0; attempt < 100000; attempt++)
        {
            var p = Random.Shared.Next(NodePortMin, NodePortMax + 1);
            if (!used.Contains(p))
            {
                return p;
            }
        }
        throw new ApiError(500, "InternalError", "Internal error occurred: failed to allocate a nodePort: range is full");
    }
}
