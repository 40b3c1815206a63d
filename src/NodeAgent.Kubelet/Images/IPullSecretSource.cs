namespace NodeAgent.Kubelet.Images;

/// <summary>Finds the pull secrets a pod names (<c>spec.imagePullSecrets</c>).</summary>
public interface IPullSecretSource
{
    /// <summary>The secret's type and data, or null when it cannot be found.</summary>
    Task<PullSecret?> GetAsync(string namespaceName, string name, CancellationToken cancellationToken);
}

/// <summary>A secret of type <c>kubernetes.io/dockerconfigjson</c> or <c>kubernetes.io/dockercfg</c>.</summary>
public sealed record PullSecret(string Type, IReadOnlyDictionary<string, byte[]> Data);

/// <summary>Static pods have no API server to read secrets from: no secret is ever found (the node's registry
/// configuration supplies credentials instead). The API-server mode brings a real source.</summary>
public sealed class NoPullSecrets : IPullSecretSource
{
    public static NoPullSecrets Instance { get; } = new();

    public Task<PullSecret?> GetAsync(string namespaceName, string name, CancellationToken cancellationToken) => Task.FromResult<PullSecret?>(null);
}
