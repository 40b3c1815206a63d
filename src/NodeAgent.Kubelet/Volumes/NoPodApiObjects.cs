using k8s.Models;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>A node without an API server (static pods only): nothing can be read; the volume and env code refuses
/// what needs the API server before asking.</summary>
public sealed class NoPodApiObjects : IPodApiObjects
{
    public static NoPodApiObjects Instance { get; } = new();

    public bool IsAvailable => false;

    public Task<V1ConfigMap?> GetConfigMapAsync(string ns, string name, CancellationToken cancellationToken) =>
        throw Unavailable($"configmap \"{name}\"");

    public Task<V1Secret?> GetSecretAsync(string ns, string name, CancellationToken cancellationToken) =>
        throw Unavailable($"secret \"{name}\"");

    public Task<IReadOnlyList<V1Service>> GetServicesAsync(string ns, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<V1Service>>([]);

    public Task<ServiceAccountToken> GetServiceAccountTokenAsync(V1Pod pod, string? audience, long expirationSeconds, CancellationToken cancellationToken) =>
        throw Unavailable("service account token");

    public void ForgetPod(string podUid)
    {
    }

    private static ApiObjectsException Unavailable(string what) => new($"{what}: static pods have no API server to read it from");
}
