namespace NodeAgent.Kubelet.Node;

/// <summary>The node name or node IP cannot be determined or is invalid; the message says which value and why.</summary>
public sealed class NodeIdentityException(string message) : Exception(message);
