namespace NodeAgent.Cri;

/// <summary>What the pod network gave a sandbox: its addresses, primary first.</summary>
public sealed record PodNetworkStatus(IReadOnlyList<string> Ips);
