using NodeAgent.Registry.Auth;

namespace NodeAgent.Registry;

/// <summary>How to pull: credentials (from imagePullSecrets or the CLI), plain http for the registry itself, progress.</summary>
public sealed record PullRequest
{
    public static PullRequest Default { get; } = new();

    /// <summary>Pull secrets of the pod; matched to the image's registry and path.</summary>
    public DockerKeyring? Keyring { get; init; }

    /// <summary>Explicit credentials (the CLI's <c>--creds</c>), tried before the keyring and the node config.</summary>
    public RegistryCredentials? Credentials { get; init; }

    /// <summary>Talk plain http to the registry's own endpoint (mirrors say their scheme in their URL).</summary>
    public bool PlainHttp { get; init; }

    /// <summary>Whether to unpack the layers into snapshots as they arrive (as containerd's CRI pull does).</summary>
    public bool Unpack { get; init; } = true;

    public IProgress<PullProgress>? Progress { get; init; }
}
