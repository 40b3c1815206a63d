namespace NodeAgent.Cri;

/// <summary>
/// The CRI's seccomp <c>SecurityProfile</c>: no filter, the runtime's default profile, or a profile file on the node
/// (<see cref="LocalhostRef"/>, an absolute path the kubelet composed beneath its seccomp directory).
/// </summary>
public sealed record SeccompProfile(SeccompProfileType Type, string? LocalhostRef = null)
{
    public static SeccompProfile Unconfined { get; } = new(SeccompProfileType.Unconfined);

    public static SeccompProfile RuntimeDefault { get; } = new(SeccompProfileType.RuntimeDefault);

    public static SeccompProfile Localhost(string path) => new(SeccompProfileType.Localhost, path);
}

/// <summary>The CRI's <c>SecurityProfile.ProfileType</c>.</summary>
public enum SeccompProfileType
{
    Unconfined,
    RuntimeDefault,
    Localhost,
}
