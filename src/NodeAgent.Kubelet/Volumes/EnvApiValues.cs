using k8s.Models;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// The API objects one container's environment refers to, read before the (synchronous) resolution: config maps and
/// secrets by name (null: the API server says it does not exist) and the service environment variables.
/// </summary>
public sealed class EnvApiValues
{
    public Dictionary<string, V1ConfigMap?> ConfigMaps { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, V1Secret?> Secrets { get; } = new(StringComparer.Ordinal);

    /// <summary>The Docker-link variables of the services (<see cref="ServiceEnv"/>), by name.</summary>
    public IReadOnlyDictionary<string, string> ServiceEnv { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Reads what <paramref name="container"/>'s <c>env</c> and <c>envFrom</c> name, and the services when the pod
    /// wants service links (always the master service), as kubelet's makeEnvironmentVariables does.
    /// </summary>
    /// <exception cref="ContainerConfigException">An object could not be read (not "not found": that is left to the resolution, which knows what is optional).</exception>
    public static async Task<EnvApiValues> LoadAsync(V1Pod pod, V1Container container, IPodApiObjects objects, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        IReadOnlyList<V1Service> services;
        try
        {
            services = await objects.GetServicesAsync(ns, cancellationToken);
        }
        catch (ApiObjectsException) when (IsStatic(pod))
        {
            // kubelet waits for the services only for pods from the API server: a static pod starts (without service
            // variables) even while the API server is away.
            services = [];
        }
        catch (ApiObjectsException e)
        {
            throw new ContainerConfigException($"services have not yet been read at least once, cannot construct envvars: {e.Message}");
        }

        var values = new EnvApiValues { ServiceEnv = Volumes.ServiceEnv.For(services, ns, pod.Spec.EnableServiceLinks ?? true) };
        var configMaps = new List<string>();
        var secrets = new List<string>();
        foreach (var from in container.EnvFrom ?? [])
        {
            if (from?.ConfigMapRef?.Name is { Length: > 0 } cm)
            {
                configMaps.Add(cm);
            }

            if (from?.SecretRef?.Name is { Length: > 0 } s)
            {
                secrets.Add(s);
            }
        }

        foreach (var e in container.Env ?? [])
        {
            if (e?.ValueFrom?.ConfigMapKeyRef?.Name is { Length: > 0 } cm)
            {
                configMaps.Add(cm);
            }

            if (e?.ValueFrom?.SecretKeyRef?.Name is { Length: > 0 } s)
            {
                secrets.Add(s);
            }
        }

        try
        {
            foreach (var name in configMaps.Distinct(StringComparer.Ordinal))
            {
                values.ConfigMaps[name] = await objects.GetConfigMapAsync(ns, name, cancellationToken);
            }

            foreach (var name in secrets.Distinct(StringComparer.Ordinal))
            {
                values.Secrets[name] = await objects.GetSecretAsync(ns, name, cancellationToken);
            }
        }
        catch (ApiObjectsException e)
        {
            throw new ContainerConfigException(e.Message);
        }

        return values;
    }

    /// <summary>A pod from a file or URL (kubelet's IsStaticPod): its <c>kubernetes.io/config.source</c> is not <c>api</c>.</summary>
    private static bool IsStatic(V1Pod pod) =>
        pod.Metadata.Annotations?.TryGetValue(ConfigAnnotations.Source, out var source) == true && source != PodSourceNames.ApiServer;
}
