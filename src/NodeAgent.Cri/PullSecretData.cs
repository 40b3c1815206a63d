namespace NodeAgent.Cri;

/// <summary>A pull secret's content as the API holds it: <paramref name="Type"/> <c>kubernetes.io/dockerconfigjson</c>
/// or <c>kubernetes.io/dockercfg</c> and its data bytes; <paramref name="Source"/> names it in messages
/// (<c>pull secret ns/name</c>).</summary>
public sealed record PullSecretData(string Type, byte[] Data, string Source);
