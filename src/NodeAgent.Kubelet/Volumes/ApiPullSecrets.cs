using NodeAgent.Kubelet.Images;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// <c>imagePullSecrets</c> read from the API server through the node's <see cref="IPodApiObjects"/> (the Node
/// authorizer lets a node read the pull secrets of its pods). A secret that is missing or cannot be read is not
/// found: the image manager logs it and pulls with what else it has, as kubelet does ("Unable to retrieve some image
/// pull secrets").
/// </summary>
public sealed class ApiPullSecrets(IPodApiObjects objects) : IPullSecretSource
{
    public async Task<PullSecret?> GetAsync(string namespaceName, string name, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await objects.GetSecretAsync(namespaceName, name, cancellationToken);
            return secret is null ? null : new PullSecret(secret.Type ?? "Opaque", (secret.Data ?? new Dictionary<string, byte[]>()).ToDictionary(kv => kv.Key, kv => kv.Value ?? []));
        }
        catch (ApiObjectsException)
        {
            return null;
        }
    }
}
