using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>The API server's volume rules (<c>ValidateVolumes</c>): names, one source per volume, hostPath paths and
/// types, and the relative item paths of configMap, secret, downwardAPI and projected volumes.</summary>
internal static class VolumeValidator
{
    /// <summary>Validates the volumes and returns the names of the valid ones (for volumeMounts).</summary>
    public static IReadOnlySet<string> Validate(FieldErrorList errors, IList<V1Volume>? volumes)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var v in volumes ?? [])
        {
            var path = $"spec.volumes[{i++}]";
            if (string.IsNullOrEmpty(v.Name))
            {
                errors.Required($"{path}.name");
            }
            else if (ValidationRules.Label(errors, $"{path}.name", v.Name) && !names.Add(v.Name))
            {
                errors.Duplicate($"{path}.name", v.Name);
            }

            var sources = new object?[]
            {
                v.EmptyDir, v.HostPath, v.ConfigMap, v.Secret, v.Projected, v.DownwardAPI, v.PersistentVolumeClaim, v.Nfs, v.Csi,
                v.Ephemeral, v.Image, v.Iscsi, v.Rbd, v.Cephfs, v.Cinder, v.Fc, v.Flocker, v.FlexVolume, v.GitRepo, v.Glusterfs,
                v.AwsElasticBlockStore, v.GcePersistentDisk, v.AzureDisk, v.AzureFile, v.VsphereVolume, v.Quobyte,
                v.PhotonPersistentDisk, v.PortworxVolume, v.ScaleIO, v.Storageos,
            }.Count(s => s is not null);
            if (sources > 1)
            {
                errors.Add((path, "Forbidden: may not specify more than 1 volume type"));
            }

            if (v.HostPath is { } hostPath)
            {
                if (ValidationRules.AbsolutePath(errors, $"{path}.hostPath.path", hostPath.Path))
                {
                    ValidationRules.NoBacksteps(errors, $"{path}.hostPath.path", hostPath.Path);
                }

                if (!string.IsNullOrEmpty(hostPath.Type))
                {
                    ValidationRules.Enum(errors, $"{path}.hostPath.type", hostPath.Type,
                        "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice");
                }
            }

            if (v.EmptyDir is { Medium: { Length: > 0 } medium })
            {
                ValidationRules.Enum(errors, $"{path}.emptyDir.medium", medium, "Memory");
            }

            Mode(errors, $"{path}.configMap.defaultMode", v.ConfigMap?.DefaultMode);
            Mode(errors, $"{path}.secret.defaultMode", v.Secret?.DefaultMode);
            Mode(errors, $"{path}.downwardAPI.defaultMode", v.DownwardAPI?.DefaultMode);
            Mode(errors, $"{path}.projected.defaultMode", v.Projected?.DefaultMode);
            Items(errors, $"{path}.configMap.items", v.ConfigMap?.Items?.Select(k => (k.Path, k.Mode)));
            Items(errors, $"{path}.secret.items", v.Secret?.Items?.Select(k => (k.Path, k.Mode)));
            Items(errors, $"{path}.downwardAPI.items", v.DownwardAPI?.Items?.Select(k => (k.Path, k.Mode)));
            var s = 0;
            foreach (var source in v.Projected?.Sources ?? [])
            {
                var sourcePath = $"{path}.projected.sources[{s++}]";
                Items(errors, $"{sourcePath}.configMap.items", source.ConfigMap?.Items?.Select(k => (k.Path, k.Mode)));
                Items(errors, $"{sourcePath}.secret.items", source.Secret?.Items?.Select(k => (k.Path, k.Mode)));
                Items(errors, $"{sourcePath}.downwardAPI.items", source.DownwardAPI?.Items?.Select(k => (k.Path, k.Mode)));
                if (source.ServiceAccountToken is { Path: var tokenPath })
                {
                    RelativePath(errors, $"{sourcePath}.serviceAccountToken.path", tokenPath);
                }
            }
        }

        return names;
    }

    private static void Items(FieldErrorList errors, string path, IEnumerable<(string Path, int? Mode)>? items)
    {
        var i = 0;
        foreach (var (itemPath, mode) in items ?? [])
        {
            RelativePath(errors, $"{path}[{i}].path", itemPath);
            Mode(errors, $"{path}[{i}].mode", mode);
            i++;
        }
    }

    /// <summary>go's <c>validateLocalDescendingPath</c>: relative, no '..' element.</summary>
    private static void RelativePath(FieldErrorList errors, string path, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Required(path);
        }
        else if (value.StartsWith('/'))
        {
            errors.Invalid(path, value, "must be a relative path");
        }
        else
        {
            ValidationRules.NoBacksteps(errors, path, value);
        }
    }

    private static void Mode(FieldErrorList errors, string path, int? mode)
    {
        if (mode is < 0 or > 0x1FF)
        {
            errors.Invalid(path, mode.Value, "must be a number between 0 and 0777 (octal), both inclusive");
        }
    }
}
