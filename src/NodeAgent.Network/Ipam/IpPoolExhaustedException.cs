namespace NodeAgent.Network.Ipam;

/// <summary>No free address is left in the pod CIDR.</summary>
public sealed class IpPoolExhaustedException(string message) : IOException(message);
