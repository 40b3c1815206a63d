using k8s.Models;

using NodeAgent.Cri;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// A pod's volumes, as kubelet's volume plugins provide them: <c>hostPath</c> (with its type checks,
/// DirectoryOrCreate/FileOrCreate creating what is missing) and <c>emptyDir</c> (a directory under
/// <c>&lt;root&gt;/pods/&lt;uid&gt;/volumes/kubernetes.io~empty-dir/</c>, kept across container restarts, deleted with
/// the pod); with an API server (<paramref name="api"/>) also configMap, secret, downwardAPI and projected volumes
/// (<see cref="ApiVolumes"/>, set up by <see cref="SetUpAsync"/> before the sandbox, mounted read-only as kubelet
/// mounts them). Without one, those types, persistentVolumeClaim and the rest, or a bad mount, fail the container with
/// a message naming the volume.
/// </summary>
public sealed class PodVolumes(string podsRoot, IHostFiles host, ApiVolumes? api = null)
{
    /// <summary>The API-backed volumes; null on a node without an API server.</summary>
    public ApiVolumes? Api => api;

    /// <summary>kubelet's emptyDir plugin (memory media, fsGroup); null: plain directories made when a container mounts them.</summary>
    public EmptyDirVolumes? EmptyDirs { get; init; }

    /// <summary>Where a volume that fails to set up is reported (<c>FailedMount</c>); null: only the sync error.</summary>
    public IPodEventRecorder? Events { get; init; }

    /// <summary>Sets up the pod's emptyDir volumes and its API-backed ones (those need an API server: without one
    /// containers fail naming them).</summary>
    /// <exception cref="VolumeException">A volume never set up could not be ("unmounted volumes=[v]: …").</exception>
    public async Task SetUpAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        if (EmptyDirs?.SetUp(pod) is { Count: > 0 } failed)
        {
            var messages = failed.Select(f => $"MountVolume.SetUp failed for volume \"{f.Volume}\" : {f.Error}").ToList();
            foreach (var message in messages)
            {
                Events?.Record(pod, "Warning", "FailedMount", message);
            }

            throw new VolumeException($"unmounted volumes=[{string.Join(' ', failed.Select(f => f.Volume))}]: {string.Join("; ", messages)}");
        }

        if (api is not null)
        {
            await api.SetUpAsync(pod, cancellationToken);
        }
    }

    public string PodDirectory(string uid) => Path.Combine(podsRoot, uid);

    /// <summary>
    /// The bind mounts of <paramref name="container"/>; creates emptyDir and *OrCreate hostPath targets. A subPath
    /// is checked lexically here and passed on in <see cref="VolumeMount.SubPath"/> with the volume's directory.
    /// </summary>
    /// <exception cref="ContainerConfigException">An unsupported volume type, a missing volume or a failed type check.</exception>
    public IReadOnlyList<VolumeMount> MountsFor(V1Pod pod, V1Container container)
    {
        var mounts = new List<VolumeMount>();
        foreach (var m in container.VolumeMounts ?? [])
        {
            var volume = pod.Spec.Volumes?.FirstOrDefault(v => v.Name == m.Name)
                ?? throw new ContainerConfigException($"volumeMount {m.Name}: the pod has no volume named \"{m.Name}\"");
            var source = Source(pod, volume);
            // kubelet mounts the volumes that hold API data read-only, whatever the mount asks.
            var readOnly = m.ReadOnlyProperty == true || (api is not null && ApiVolumes.Handles(volume));
            var subPath = string.IsNullOrEmpty(m.SubPath) ? null : m.SubPath;
            if (subPath is not null && (Path.IsPathRooted(subPath) || subPath.Split('/').Contains("..") || subPath.Contains('\0')))
            {
                throw new ContainerConfigException($"volumeMount {m.Name}: subPath \"{subPath}\" must be a relative path without \"..\"");
            }

            // The subPath is resolved by the runtime, beneath the volume, when it creates the container: the volume's
            // content is the containers' to write, so resolving (or creating) it here would follow their symlinks.
            mounts.Add(new VolumeMount(source, m.MountPath, readOnly)
            {
                SubPath = subPath,
                Name = m.Name,
                Propagation = MountPropagations.For(m, container),
            });
        }

        return mounts;
    }

    /// <summary>Removes the pod's volume directories (emptyDir contents, API volumes after their tmpfs is
    /// unmounted); hostPath data is the host's and stays.</summary>
    /// <exception cref="VolumeException">A tmpfs could not be unmounted: the directory stays.</exception>
    public void Remove(string uid)
    {
        if (!PodPaths.IsPathComponent(uid))
        {
            // A UID that is not one path component (from a hostile label) would name another directory.
            return;
        }

        api?.TearDown(uid);
        EmptyDirs?.Forget(uid);

        var dir = PodDirectory(uid);
        if (Directory.Exists(dir))
        {
            // Memory-backed emptyDirs, and anything a container's Bidirectional mount left below the pod: unmounted
            // first, so the removal never empties another filesystem.
            if (EmptyDirs is not null)
            {
                host.UnmountAllUnder(dir);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>kubelet's cleanupOrphanedPodDirs: the directories of pods no source wants (left by an agent that
    /// stopped before removing them) are removed, their mounts first. One that fails is reported and left.</summary>
    /// <returns>The failures, what and why.</returns>
    public List<string> RemoveOrphans(IReadOnlySet<string> wantedUids)
    {
        var errors = new List<string>();
        if (!Directory.Exists(podsRoot))
        {
            return errors;
        }

        foreach (var dir in Directory.EnumerateDirectories(podsRoot))
        {
            var uid = Path.GetFileName(dir);
            if (wantedUids.Contains(uid) || !PodPaths.IsPathComponent(uid) || new FileInfo(dir).LinkTarget is not null)
            {
                continue;
            }

            try
            {
                Remove(uid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"pod directory {dir}: {e.Message}");
            }
        }

        return errors;
    }

    private string Source(V1Pod pod, V1Volume volume)
    {
        if (volume.EmptyDir is not null)
        {
            if (EmptyDirs is { } emptyDirs)
            {
                return emptyDirs.IsSetUp(pod.Metadata.Uid, volume.Name)
                    ? emptyDirs.DirectoryOf(pod.Metadata.Uid, volume.Name)
                    : throw new ContainerConfigException($"volume {volume.Name}: not set up yet");
            }

            var dir = Path.Combine(PodDirectory(pod.Metadata.Uid), "volumes", EmptyDirVolumes.PluginDirectory, volume.Name);
            Directory.CreateDirectory(dir);
            return dir;
        }

        if (volume.HostPath is { } hostPath)
        {
            CheckHostPath(volume.Name, hostPath.Path, hostPath.Type ?? string.Empty);
            return hostPath.Path;
        }

        if (api is not null && ApiVolumes.Handles(volume))
        {
            return api.IsSetUp(pod.Metadata.Uid, volume.Name)
                ? api.DirectoryOf(pod.Metadata.Uid, volume)
                : throw new ContainerConfigException($"volume {volume.Name}: not set up yet");
        }

        var kind = volume.Secret is not null ? "secret"
            : volume.ConfigMap is not null ? "configMap"
            : volume.Projected is not null ? "projected"
            : volume.PersistentVolumeClaim is not null ? "persistentVolumeClaim"
            : volume.DownwardAPI is not null ? "downwardAPI"
            : "this";
        throw new ContainerConfigException($"volume {volume.Name}: {kind} volumes are not supported for static pods (only hostPath and emptyDir)");
    }

    private void CheckHostPath(string name, string path, string type)
    {
        if (!Path.IsPathRooted(path))
        {
            throw new ContainerConfigException($"volume {name}: hostPath \"{path}\" is not an absolute path");
        }

        var kind = host.KindOf(path);
        switch (type)
        {
            case "":
                return;
            case "DirectoryOrCreate" when kind == HostFileKind.Missing:
                Directory.CreateDirectory(path);
                return;
            case "FileOrCreate" when kind == HostFileKind.Missing:
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllBytes(path, []);
                return;
            case "DirectoryOrCreate" or "Directory":
                Expect(HostFileKind.Directory, "a directory");
                return;
            case "FileOrCreate" or "File":
                Expect(HostFileKind.Regular, "a file");
                return;
            case "Socket":
                Expect(HostFileKind.Socket, "a socket");
                return;
            case "CharDevice":
                Expect(HostFileKind.CharDevice, "a character device");
                return;
            case "BlockDevice":
                Expect(HostFileKind.BlockDevice, "a block device");
                return;
            default:
                throw new ContainerConfigException($"volume {name}: unknown hostPath type \"{type}\"");
        }

        void Expect(HostFileKind wanted, string what)
        {
            if (kind != wanted)
            {
                throw kind == HostFileKind.Missing ? Missing(name, path) : Mismatch(name, path, what);
            }
        }
    }

    private static ContainerConfigException Missing(string name, string path) =>
        new($"volume {name}: hostPath \"{path}\" does not exist");

    private static ContainerConfigException Mismatch(string name, string path, string what) =>
        new($"volume {name}: hostPath \"{path}\" is not {what}");
}
