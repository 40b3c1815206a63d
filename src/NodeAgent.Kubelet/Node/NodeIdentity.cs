using System.Net;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// The node's name and its addresses as pods and node status see them: <see cref="Name"/> is kubelet's node name
/// (host name or <c>--hostname-override</c>, lower-cased), <see cref="Addresses"/> the node IPs (the first is the
/// primary one, <c>status.hostIP</c>; a second one of the other family for dual-stack). Empty when none was found.
/// </summary>
public sealed record NodeIdentity(string Name, IReadOnlyList<IPAddress> Addresses)
{
    /// <summary>The primary node IP as text, or null when the node has none.</summary>
    public string? Address => Addresses.Count > 0 ? Addresses[0].ToString() : null;
}
