namespace NodeAgent.Tests.Network;

/// <summary>The host's links and iptables rules, to prove a test left them as it found them.</summary>
public sealed record HostSnapshot(string Links, string Rules)
{
    public static HostSnapshot Take() => new(Run("ip", "-o", "link", "show"), Normalise(Run("iptables-save")));

    public void AssertUnchanged()
    {
        var now = Take();
        Assert.Equal(LinkNames(Links), LinkNames(now.Links));
        Assert.Equal(Rules, now.Rules);
    }

    private static IEnumerable<string> LinkNames(string links) =>
        links.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(':')[1].Trim()).Order();

    // Packet counters and the timestamp comment change on their own.
    private static string Normalise(string rules) =>
        string.Join('\n', rules.Split('\n').Where(l => !l.StartsWith('#')).Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"\[\d+:\d+\]", "[0:0]")));

    private static string Run(string file, params string[] args) => Support.RepoPaths.Run(file, args);
}
