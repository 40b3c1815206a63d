using System.Text.RegularExpressions;

namespace NodeAgent.Linux;

/// <summary>The two kernel interfaces iptables 1.8 programs: nf_tables (<c>iptables-nft</c>) and the x_tables one
/// (<c>iptables-legacy</c>). Each has its own tables (per network namespace); the node's packets pass both.</summary>
public enum IptablesBackend
{
    Nft,
    Legacy,
}

/// <summary>
/// Finds the backend the node uses, by the rule of the iptables-wrapper that kube-proxy's images run
/// (kubernetes-sigs/iptables-wrappers): (1) kubelet's chains <c>KUBE-IPTABLES-HINT</c> or <c>KUBE-KUBELET-CANARY</c>
/// in the nf_tables mangle table (IPv4 or IPv6) mean nft; (2) the same chains anywhere in the legacy tables mean
/// legacy (the whole legacy ruleset is read: naming a legacy table would create it); (3) otherwise legacy when it
/// holds more rules (<c>-</c> lines of iptables-save, IPv4 and IPv6) than nf_tables, else nft. A save that fails
/// (a backend the kernel lacks) counts as empty.
/// </summary>
public static partial class IptablesBackendDetector
{
    /// <summary>The program for one iptables tool (<c>iptables</c>, <c>iptables-save</c>, <c>iptables-restore</c>,
    /// or their ip6tables forms) of a backend.</summary>
    public static string Command(IptablesBackend backend, string tool)
    {
        var suffix = backend == IptablesBackend.Legacy ? "-legacy" : "-nft";
        var dash = tool.IndexOf('-', StringComparison.Ordinal);
        return dash < 0 ? tool + suffix : tool[..dash] + suffix + tool[dash..];
    }

    /// <summary>Parses <c>nft</c>, <c>legacy</c>; null for <c>auto</c> or an empty value (detect).</summary>
    public static IptablesBackend? Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => null,
        "nft" => IptablesBackend.Nft,
        "legacy" => IptablesBackend.Legacy,
        _ => throw new FormatException($"iptables backend \"{value}\" is not one of auto, nft, legacy"),
    };

    /// <summary>The backend of the node whose network namespace <paramref name="node"/> runs in, with the step of the
    /// rule that decided it.</summary>
    public static async Task<(IptablesBackend Backend, string Reason)> DetectAsync(NodeCommand node, CancellationToken cancellationToken)
    {
        var nftMangle = await SavesAsync(node, IptablesBackend.Nft, ["-t", "mangle"], cancellationToken);
        if (HasKubeletChains(nftMangle))
        {
            return (IptablesBackend.Nft, "kubelet's chains are in the nf_tables mangle table");
        }
        var legacy = await SavesAsync(node, IptablesBackend.Legacy, [], cancellationToken);
        if (HasKubeletChains(legacy))
        {
            return (IptablesBackend.Legacy, "kubelet's chains are in the legacy tables");
        }
        var nft = await SavesAsync(node, IptablesBackend.Nft, [], cancellationToken);
        var (legacyRules, nftRules) = (RuleCount(legacy), RuleCount(nft));
        return legacyRules > nftRules
            ? (IptablesBackend.Legacy, $"no kubelet chains; legacy has more rules ({legacyRules} against {nftRules})")
            : (IptablesBackend.Nft, $"no kubelet chains; nf_tables has as many rules or more ({nftRules} against {legacyRules})");
    }

    /// <summary>Whether an iptables-save output declares kubelet's hint or canary chain.</summary>
    public static bool HasKubeletChains(string save) => KubeletChains().IsMatch(save);

    /// <summary>The rule lines (<c>-A</c>...) of an iptables-save output.</summary>
    public static int RuleCount(string save)
    {
        var count = 0;
        foreach (var line in save.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("-"))
            {
                count++;
            }
        }
        return count;
    }

    private static async Task<string> SavesAsync(NodeCommand node, IptablesBackend backend, string[] args, CancellationToken cancellationToken)
    {
        var text = "";
        foreach (var tool in new[] { "iptables-save", "ip6tables-save" })
        {
            try
            {
                var result = await node.RunAsync(Command(backend, tool), args, null, null, cancellationToken);
                if (result.ExitCode == 0)
                {
                    text += result.Stdout;
                }
            }
            catch (IOException)
            {
                // Not installed: that backend has nothing.
            }
        }
        return text;
    }

    [GeneratedRegex("^:(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY) ", RegexOptions.Multiline)]
    private static partial Regex KubeletChains();
}
