namespace NodeAgent.Network.Cni;

/// <summary>Settings of the CNI mode (<c>--network-plugin=cni</c>).</summary>
public sealed record CniOptions
{
    public string ConfDir { get; init; } = "/etc/cni/net.d";

    /// <summary>Directories searched for plugin binaries, in order (CNI_PATH).</summary>
    public IReadOnlyList<string> BinDirs { get; init; } = ["/opt/cni/bin"];

    /// <summary>Where each sandbox's last result is cached for DEL and CHECK (<c>&lt;root-dir&gt;/network/cni</c>).</summary>
    public required string StateDir { get; init; }

    /// <summary>The node's network namespace as a path; null for the agent's own.</summary>
    public string? NodeNetns { get; init; }
}
