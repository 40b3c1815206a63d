namespace NodeAgent.Kubelet.Volumes;

/// <summary>One file of a volume's payload: its bytes and its mode (permission bits only).</summary>
public sealed record FileProjection(byte[] Data, int Mode);
