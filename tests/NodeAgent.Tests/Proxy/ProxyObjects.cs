using k8s.Models;
using NodeAgent.Proxy;

namespace NodeAgent.Tests.Proxy;

/// <summary>Services and EndpointSlices as the API server would hand them to the proxy.</summary>
public static class ProxyObjects
{
    public static V1Service Service(string ns, string name, string clusterIP, params V1ServicePort[] ports) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name },
        Spec = new V1ServiceSpec { Type = "ClusterIP", ClusterIP = clusterIP, Ports = ports },
    };

    public static V1ServicePort Port(string? name, int port, string protocol = "TCP", int? nodePort = null) =>
        new() { Name = name, Port = port, Protocol = protocol, NodePort = nodePort };

    public static V1EndpointSlice Slice(string ns, string service, string name, Discoveryv1EndpointPort[] ports, params V1Endpoint[] endpoints) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            NamespaceProperty = ns,
            Name = name,
            Labels = new Dictionary<string, string> { [EndpointSliceParser.ServiceNameLabel] = service },
        },
        AddressType = "IPv4",
        Ports = ports,
        Endpoints = endpoints,
    };

    /// <summary>The one EndpointSlice of service ns1/<paramref name="service"/>, with one port.</summary>
    public static V1EndpointSlice Backends(string service, string port, string protocol, int targetPort, params V1Endpoint[] endpoints) =>
        Slice("ns1", service, service + "-a", [SlicePort(port, targetPort, protocol)], endpoints);

    public static Discoveryv1EndpointPort SlicePort(string? name, int port, string protocol = "TCP") => new() { Name = name, Port = port, Protocol = protocol };

    public static V1Endpoint Ep(string ip, bool? ready = true, bool? serving = null, bool? terminating = null, string? node = null) => new()
    {
        Addresses = [ip],
        Conditions = new V1EndpointConditions { Ready = ready, Serving = serving, Terminating = terminating },
        NodeName = node,
    };
}
