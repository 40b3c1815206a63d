using System.Text;
using k8s.Models;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// What a configMap, secret, downwardAPI or projected volume holds, as kubelet's volume plugins compute it
/// (their <c>MakePayload</c>/<c>CollectData</c>): path → bytes and mode. Without <c>items</c> every key becomes a
/// file; with them only the listed keys, at their paths, a key the object lacks failing the volume
/// (<c>configmap references non-existent config key: k</c>) unless the volume is optional. A missing object fails
/// the volume (<c>configmap "x" not found</c>) unless optional, when it is empty. <c>defaultMode</c> is 0644.
/// </summary>
public static class VolumePayloads
{
    public const int DefaultMode = 420; // 0644

    /// <exception cref="VolumeException">A missing object or key, an unreadable object, an unsupported source.</exception>
    public static async Task<Dictionary<string, FileProjection>> ForAsync(V1Pod pod, V1Volume volume, IPodApiObjects objects, CancellationToken cancellationToken)
    {
        if (volume.ConfigMap is { } cm)
        {
            var map = await ConfigMapAsync(pod, cm.Name, objects, cancellationToken);
            return ConfigMap(map, cm.Name, cm.Items, cm.DefaultMode ?? DefaultMode, cm.Optional == true);
        }

        if (volume.Secret is { } s)
        {
            var secret = await SecretAsync(pod, s.SecretName, objects, cancellationToken);
            return Secret(secret, s.SecretName, s.Items, s.DefaultMode ?? DefaultMode, s.Optional == true);
        }

        if (volume.DownwardAPI is { } d)
        {
            return DownwardApi(pod, d.Items, d.DefaultMode ?? DefaultMode);
        }

        if (volume.Projected is { } p)
        {
            return await ProjectedAsync(pod, p, objects, cancellationToken);
        }

        throw new VolumeException($"volume {volume.Name} needs no API object");
    }

    public static Dictionary<string, FileProjection> ConfigMap(V1ConfigMap? configMap, string? name, IList<V1KeyToPath>? items, int defaultMode, bool optional)
    {
        if (configMap is null)
        {
            return optional ? [] : throw new VolumeException($"configmap \"{name}\" not found");
        }

        var payload = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        if (items is null || items.Count == 0)
        {
            foreach (var (key, value) in configMap.Data ?? new Dictionary<string, string>())
            {
                payload[key] = new FileProjection(Encoding.UTF8.GetBytes(value ?? string.Empty), defaultMode);
            }

            foreach (var (key, value) in configMap.BinaryData ?? new Dictionary<string, byte[]>())
            {
                payload[key] = new FileProjection(value ?? [], defaultMode);
            }

            return payload;
        }

        foreach (var item in items.Where(i => i is not null))
        {
            byte[] data;
            if (item.Key is not null && configMap.Data?.TryGetValue(item.Key, out var text) == true)
            {
                data = Encoding.UTF8.GetBytes(text ?? string.Empty);
            }
            else if (item.Key is not null && configMap.BinaryData?.TryGetValue(item.Key, out var bytes) == true)
            {
                data = bytes ?? [];
            }
            else if (optional)
            {
                continue;
            }
            else
            {
                throw new VolumeException($"configmap references non-existent config key: {item.Key}");
            }

            payload[item.Path ?? string.Empty] = new FileProjection(data, item.Mode ?? defaultMode);
        }

        return payload;
    }

    public static Dictionary<string, FileProjection> Secret(V1Secret? secret, string? name, IList<V1KeyToPath>? items, int defaultMode, bool optional)
    {
        if (secret is null)
        {
            return optional ? [] : throw new VolumeException($"secret \"{name}\" not found");
        }

        var data = secret.Data ?? new Dictionary<string, byte[]>();
        var payload = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        if (items is null || items.Count == 0)
        {
            foreach (var (key, value) in data)
            {
                payload[key] = new FileProjection(value ?? [], defaultMode);
            }

            return payload;
        }

        foreach (var item in items.Where(i => i is not null))
        {
            if (item.Key is null || !data.TryGetValue(item.Key, out var value))
            {
                if (optional)
                {
                    continue;
                }

                throw new VolumeException($"references non-existent secret key: {item.Key}");
            }

            payload[item.Path ?? string.Empty] = new FileProjection(value ?? [], item.Mode ?? defaultMode);
        }

        return payload;
    }

    public static Dictionary<string, FileProjection> DownwardApi(V1Pod pod, IList<V1DownwardAPIVolumeFile>? items, int defaultMode)
    {
        var payload = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var item in (items ?? []).Where(i => i is not null))
        {
            try
            {
                string value;
                if (item.FieldRef is { } field)
                {
                    value = DownwardApiValues.Field(pod, field.FieldPath);
                }
                else if (item.ResourceFieldRef is { } resource)
                {
                    value = DownwardApiValues.Resource(pod, resource);
                }
                else
                {
                    throw new VolumeException($"item {item.Path}: neither fieldRef nor resourceFieldRef");
                }

                payload[item.Path ?? string.Empty] = new FileProjection(Encoding.UTF8.GetBytes(value), item.Mode ?? defaultMode);
            }
            catch (VolumeException e)
            {
                errors.Add(e.Message);
            }
        }

        return errors.Count == 0 ? payload : throw new VolumeException(Aggregate(errors));
    }

    private static async Task<Dictionary<string, FileProjection>> ProjectedAsync(V1Pod pod, V1ProjectedVolumeSource projected, IPodApiObjects objects, CancellationToken cancellationToken)
    {
        var defaultMode = projected.DefaultMode ?? DefaultMode;
        var payload = new Dictionary<string, FileProjection>(StringComparer.Ordinal);
        var errors = new List<string>();
        foreach (var source in (projected.Sources ?? []).Where(s => s is not null))
        {
            try
            {
                Dictionary<string, FileProjection> part;
                if (source.ConfigMap is { } cm)
                {
                    var map = await ConfigMapAsync(pod, cm.Name, objects, cancellationToken);
                    part = ConfigMap(map, cm.Name, cm.Items, defaultMode, cm.Optional == true);
                }
                else if (source.Secret is { } s)
                {
                    var secret = await SecretAsync(pod, s.Name, objects, cancellationToken);
                    part = Secret(secret, s.Name, s.Items, defaultMode, s.Optional == true);
                }
                else if (source.DownwardAPI is { } d)
                {
                    part = DownwardApi(pod, d.Items, defaultMode);
                }
                else if (source.ServiceAccountToken is { } t)
                {
                    ServiceAccountToken token;
                    try
                    {
                        token = await objects.GetServiceAccountTokenAsync(pod, string.IsNullOrEmpty(t.Audience) ? null : t.Audience, t.ExpirationSeconds ?? 3600, cancellationToken);
                    }
                    catch (ApiObjectsException e)
                    {
                        throw new VolumeException(e.Message, e);
                    }

                    // As kubelet: with an fsGroup the token is 0600 (0640 once the group is set), else defaultMode.
                    var mode = pod.Spec.SecurityContext?.FsGroup is null ? defaultMode : 384;
                    part = new(StringComparer.Ordinal) { [t.Path ?? string.Empty] = new FileProjection(Encoding.UTF8.GetBytes(token.Token), mode) };
                }
                else
                {
                    throw new VolumeException("projected source not supported on this node (only configMap, secret, downwardAPI and serviceAccountToken)");
                }

                foreach (var (path, file) in part)
                {
                    payload[path] = file;
                }
            }
            catch (VolumeException e)
            {
                errors.Add(e.Message);
            }
        }

        return errors.Count == 0 ? payload : throw new VolumeException(Aggregate(errors));
    }

    private static async Task<V1ConfigMap?> ConfigMapAsync(V1Pod pod, string? name, IPodApiObjects objects, CancellationToken cancellationToken)
    {
        try
        {
            return string.IsNullOrEmpty(name) ? null : await objects.GetConfigMapAsync(pod.Metadata.NamespaceProperty ?? "default", name, cancellationToken);
        }
        catch (ApiObjectsException e)
        {
            throw new VolumeException(e.Message, e);
        }
    }

    private static async Task<V1Secret?> SecretAsync(V1Pod pod, string? name, IPodApiObjects objects, CancellationToken cancellationToken)
    {
        try
        {
            return string.IsNullOrEmpty(name) ? null : await objects.GetSecretAsync(pod.Metadata.NamespaceProperty ?? "default", name, cancellationToken);
        }
        catch (ApiObjectsException e)
        {
            throw new VolumeException(e.Message, e);
        }
    }

    /// <summary>utilerrors.NewAggregate's message: one error as itself, several as "[a, b]".</summary>
    private static string Aggregate(List<string> errors) => errors.Count == 1 ? errors[0] : "[" + string.Join(", ", errors) + "]";
}
