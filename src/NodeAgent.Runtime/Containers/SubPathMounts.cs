using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Containers;

/// <summary>
/// Prepares the mounts that have a subPath, as kubelet has since CVE-2017-1002101: the subPath is opened beneath its
/// volume by the kernel (<see cref="PathBeneath"/>: no symlink or <c>..</c> leads out, missing directories are made
/// safely), and the opened descriptor is bind-mounted onto a staging path the runtime owns,
/// <c>containers/&lt;id&gt;/subpaths/&lt;index&gt;</c> (kubelet's <c>pods/&lt;uid&gt;/volume-subpaths/</c>), which
/// becomes the mount's source. A container that later swaps a path component for a symlink changes nothing: the
/// staging mount holds what was opened. Staging mounts go when the container is removed (or its creation fails).
/// </summary>
public static class SubPathMounts
{
    public const string Directory = "subpaths";

    /// <summary>
    /// The container's mounts with each subPath mount replaced by its staging mount. Each staging mount made is
    /// pushed on <paramref name="undo"/> (its unmount) before it is made.
    /// </summary>
    /// <exception cref="RuntimeException"><see cref="RuntimeErrorKind.CreateContainerConfigError"/> naming the subPath,
    /// the volumeMount and the container; the host paths are only in the inner exception, as kubelet keeps them
    /// from the pod's status.</exception>
    public static IReadOnlyList<VolumeMount> Prepare(string containerDirectory, ContainerConfig config, Stack<Action> undo)
    {
        if (config.Mounts.All(m => string.IsNullOrEmpty(m.SubPath)))
        {
            return config.Mounts;
        }

        var result = new List<VolumeMount>(config.Mounts.Count);
        for (var i = 0; i < config.Mounts.Count; i++)
        {
            var mount = config.Mounts[i];
            if (string.IsNullOrEmpty(mount.SubPath))
            {
                result.Add(mount);
                continue;
            }

            if (!Path.IsPathRooted(mount.HostPath))
            {
                throw new RuntimeException(RuntimeErrorKind.CreateContainerConfigError,
                    $"failed to prepare subPath \"{mount.SubPath}\" for volumeMount \"{mount.Name ?? mount.ContainerPath}\" of container \"{config.Name}\": the volume path \"{mount.HostPath}\" is not absolute");
            }

            var staging = Path.Combine(containerDirectory, Directory, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                using var opened = PathBeneath.Open(mount.HostPath, mount.SubPath, createMissingDirectories: true);
                if (opened.Kind == FileKind.Directory)
                {
                    System.IO.Directory.CreateDirectory(staging);
                }
                else
                {
                    System.IO.Directory.CreateDirectory(Path.GetDirectoryName(staging)!);
                    File.WriteAllBytes(staging, []);
                }

                undo.Push(() => Mounts.Unmount(staging, detach: true));
                Mounts.BindHandle(opened, staging);
            }
            catch (ArgumentException ex)
            {
                throw Failed(config, mount, "it must be a relative path without \"..\"", ex);
            }
            catch (LinuxException ex)
            {
                throw Failed(config, mount, Reason(ex), ex);
            }

            result.Add(mount with { HostPath = staging, SubPath = null });
        }

        return result;
    }

    private static RuntimeException Failed(ContainerConfig config, VolumeMount mount, string reason, Exception inner) =>
        new(RuntimeErrorKind.CreateContainerConfigError,
            $"failed to prepare subPath \"{mount.SubPath}\" for volumeMount \"{mount.Name ?? mount.ContainerPath}\" of container \"{config.Name}\": {reason}",
            inner);

    /// <summary>Why, in the volume's terms: the host's paths stay out of the pod's status.</summary>
    private static string Reason(LinuxException ex) => ex.Errno switch
    {
        ErrnoNames.EXDEV => "it resolves outside the volume (an absolute symlink, or one that climbs out)",
        ErrnoNames.ELOOP => "a symlink loop, or a symlink where a directory is to be created",
        ErrnoNames.ENOENT => "a path component does not exist",
        ErrnoNames.ENOTDIR => "a path component is not a directory",
        ErrnoNames.ENAMETOOLONG => "the path is too long",
        ErrnoNames.EACCES or ErrnoNames.EPERM => "permission denied",
        _ => $"{ex.Operation}: {LinuxException.Describe(ex.Errno)}",
    };
}
