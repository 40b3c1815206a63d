namespace NodeAgent.TestApiServer.Api;

/// <summary>An authenticated identity: user name and groups, as the real authenticators produce them.</summary>
public sealed record UserInfo(string Name, IReadOnlyList<string> Groups)
{
    public static readonly UserInfo Anonymous = new("system:anonymous", ["system:unauthenticated"]);

    public bool IsAdmin => Groups.Contains("system:masters");

    /// <summary>The node name when this is a node identity (<c>system:node:NAME</c> in group <c>system:nodes</c>).</summary>
    public string? NodeName => Name.StartsWith("system:node:", StringComparison.Ordinal) && Groups.Contains("system:nodes")
        ? Name["system:node:".Length..]
        : null;
}
