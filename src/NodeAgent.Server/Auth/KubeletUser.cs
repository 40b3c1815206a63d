namespace NodeAgent.Server.Auth;

/// <summary>Who made a request to the kubelet API, as authentication found it.</summary>
public sealed record KubeletUser(string Name, IReadOnlyList<string> Groups, string? Uid = null)
{
    public const string AuthenticatedGroup = "system:authenticated";

    /// <summary>kubelet's anonymous identity (<c>--anonymous-auth</c>).</summary>
    public static KubeletUser Anonymous { get; } = new("system:anonymous", ["system:unauthenticated"]);

    /// <summary>The user with <c>system:authenticated</c> added, as the API server's group adder does.</summary>
    public KubeletUser WithAuthenticatedGroup() =>
        Groups.Contains(AuthenticatedGroup, StringComparer.Ordinal) ? this : this with { Groups = [.. Groups, AuthenticatedGroup] };
}
