namespace NodeAgent.Cri;

/// <summary>An extra /etc/hosts entry (the pod's hostAliases).</summary>
public sealed record HostAlias(string Ip, IReadOnlyList<string> Hostnames);
