using System.Net;
using System.Net.Sockets;
using k8s.Models;

namespace NodeAgent.Proxy;

/// <summary>
/// Reads an EndpointSlice (discovery.k8s.io/v1) as kube-proxy's EndpointSliceCache does: the service from the
/// <c>kubernetes.io/service-name</c> label, the first address of each endpoint, ready/serving/terminating with the
/// API's defaults, and local = <c>nodeName</c> is this node. A malformed slice (no service label, a bad address or
/// port) is refused whole with an error naming the field; slices of other address types (IPv6, FQDN) are not ours.
/// </summary>
public static class EndpointSliceParser
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";

    /// <summary>When the change behind this slice happened (set by the EndpointSlice controller).</summary>
    public const string TriggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time";

    /// <summary>One port of a slice.</summary>
    public sealed record SlicePort(string Name, int Port, L4Protocol Protocol);

    /// <summary>One endpoint of a slice, before it is paired with ports.</summary>
    public sealed record SliceEndpoint(IPAddress Address, bool Ready, bool Serving, bool Terminating, string? NodeName);

    /// <summary>A parsed slice; <see cref="Ignored"/> when it is of another address type.</summary>
    public sealed record Slice(ServiceName Service, string Name, IReadOnlyList<SlicePort> Ports, IReadOnlyList<SliceEndpoint> Endpoints, bool Ignored)
    {
        /// <summary>The trigger time annotation, when present and valid (not part of the slice's identity).</summary>
        public DateTimeOffset? TriggerTime { get; init; }
    }

    public static Slice Parse(V1EndpointSlice slice, out string? error)
    {
        error = null;
        var ns = slice.Metadata?.NamespaceProperty;
        var name = slice.Metadata?.Name ?? "";
        var where = $"endpointslice {ServiceParser.Printable(ns)}/{ServiceParser.Printable(name)}";
        string? service = null;
        slice.Metadata?.Labels?.TryGetValue(ServiceNameLabel, out service);
        if (!ApiNames.IsDnsLabel(ns) || name.Length == 0 || name.Length > 253)
        {
            error = $"{where}: namespace or name is invalid";
            return Empty(ns, name);
        }
        if (!ApiNames.IsDnsLabel(service))
        {
            error = $"{where}: label {ServiceNameLabel} {ServiceParser.Printable(service)} does not name a service";
            return Empty(ns, name);
        }

        var id = new ServiceName(ns!, service!);
        if (slice.AddressType != "IPv4")
        {
            return new Slice(id, name, [], [], Ignored: true);
        }

        var ports = new List<SlicePort>();
        for (var i = 0; i < (slice.Ports?.Count ?? 0); i++)
        {
            var p = slice.Ports![i];
            if (!ApiNames.IsPortName(p.Name) || p.Port is not { } port || port < 1 || port > 65535)
            {
                error = $"{where}: ports[{i}] (name {ServiceParser.Printable(p.Name)}, port {p.Port?.ToString() ?? "unset"}) is invalid";
                return Empty(ns, name);
            }
            if (L4Protocols.TryParse(p.Protocol, out var protocol))
            {
                ports.Add(new SlicePort(p.Name ?? "", port, protocol));
            }
        }

        var endpoints = new List<SliceEndpoint>();
        for (var i = 0; i < (slice.Endpoints?.Count ?? 0); i++)
        {
            var e = slice.Endpoints![i];
            var address = e.Addresses is { Count: > 0 } a ? a[0] : null;
            if (address is null || !IPAddress.TryParse(address, out var ip) || ip.AddressFamily != AddressFamily.InterNetwork ||
                !ServiceParser.IsStrict(address, ip))
            {
                error = $"{where}: endpoints[{i}].addresses[0] {ServiceParser.Printable(address)} is not an IPv4 address";
                return Empty(ns, name);
            }
            var ready = e.Conditions?.Ready ?? true;
            endpoints.Add(new SliceEndpoint(ip, ready, e.Conditions?.Serving ?? ready, e.Conditions?.Terminating ?? false, e.NodeName));
        }

        DateTimeOffset? trigger = null;
        if (slice.Metadata?.Annotations?.TryGetValue(TriggerTimeAnnotation, out var t) == true &&
            DateTimeOffset.TryParse(t, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
        {
            trigger = parsed;
        }
        return new Slice(id, name, ports, endpoints, Ignored: false) { TriggerTime = trigger };
    }

    private static Slice Empty(string? ns, string name) => new(new ServiceName(ns ?? "", ""), name, [], [], Ignored: true);
}
