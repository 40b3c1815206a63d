using k8s.Models;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// The API objects the kubelet reads for a pod's volumes and environment (kubelet's configmap, secret and token
/// managers and its service lister): config maps, secrets, the services of the pod's namespace and
/// <c>default/kubernetes</c>, and service-account tokens bound to the pod. <see cref="NoPodApiObjects"/> stands in
/// for a node without an API server; <see cref="ApiPodObjects"/> reads through NodeAgent.Kube.
/// </summary>
public interface IPodApiObjects
{
    /// <summary>False for a node without an API server: the callers then fail as a static pod always has.</summary>
    bool IsAvailable { get; }

    /// <summary>The config map, or null when the API server says it does not exist.</summary>
    /// <exception cref="ApiObjectsException">It could not be read (unreachable, forbidden…) and nothing is cached.</exception>
    Task<V1ConfigMap?> GetConfigMapAsync(string ns, string name, CancellationToken cancellationToken);

    /// <summary>The secret, or null when the API server says it does not exist.</summary>
    /// <exception cref="ApiObjectsException">It could not be read and nothing is cached.</exception>
    Task<V1Secret?> GetSecretAsync(string ns, string name, CancellationToken cancellationToken);

    /// <summary>The services of <paramref name="ns"/> and the master service <c>default/kubernetes</c>, for the
    /// Docker-link environment variables.</summary>
    /// <exception cref="ApiObjectsException">They could not be listed and nothing is cached.</exception>
    Task<IReadOnlyList<V1Service>> GetServicesAsync(string ns, CancellationToken cancellationToken);

    /// <summary>A token of the pod's service account from the TokenRequest API, bound to the pod, for
    /// <paramref name="audience"/> (null: the API server's) lasting <paramref name="expirationSeconds"/>; cached and
    /// renewed once 80 % of its lifetime has passed.</summary>
    /// <exception cref="ApiObjectsException">No valid token could be had.</exception>
    Task<ServiceAccountToken> GetServiceAccountTokenAsync(V1Pod pod, string? audience, long expirationSeconds, CancellationToken cancellationToken);

    /// <summary>Forgets what is kept for the pod (its tokens): the pod is gone.</summary>
    void ForgetPod(string podUid);
}

/// <summary>A service-account token and when it expires.</summary>
public sealed record ServiceAccountToken(string Token, DateTimeOffset ExpiresAt);

/// <summary>An API object that could not be read (not a "not found": that is a null result).</summary>
public sealed class ApiObjectsException(string message, Exception? inner = null) : Exception(message, inner);
