using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// kubelet's emptyDir plugin: a directory (mode 0777) under <c>&lt;pods&gt;/&lt;uid&gt;/volumes/kubernetes.io~empty-dir/&lt;name&gt;</c>
/// kept across container restarts; with <c>medium: Memory</c> a tmpfs mounted there, sized as kubelet sizes it
/// (<see cref="MemorySize"/>), unmounted when the pod goes. With the pod's <c>fsGroup</c> the directory's tree gets the
/// group (<see cref="IVolumeHost.SetVolumeOwnership"/>; kubelet passes no fsGroupChangePolicy for emptyDir, so it is
/// walked whatever the policy). Set up once per pod, before its sandbox; hugepage media are refused.
/// </summary>
public sealed partial class EmptyDirVolumes(string podsRoot, IVolumeHost host, Func<long> nodeAllocatableMemory, ILogger<EmptyDirVolumes> logger)
{
    public const string PluginDirectory = "kubernetes.io~empty-dir";

    private readonly Dictionary<string, HashSet<string>> _setUp = new(StringComparer.Ordinal);

    public string DirectoryOf(string uid, string volume) => Path.Combine(podsRoot, uid, "volumes", PluginDirectory, volume);

    /// <summary>True once the pod's volume has been set up by this agent.</summary>
    public bool IsSetUp(string uid, string volume)
    {
        lock (_setUp)
        {
            return _setUp.TryGetValue(uid, out var names) && names.Contains(volume);
        }
    }

    /// <summary>Sets up the pod's emptyDir volumes not set up yet.</summary>
    /// <returns>Each volume that failed, with kubelet's reason.</returns>
    public List<(string Volume, string Error)> SetUp(V1Pod pod)
    {
        var failed = new List<(string, string)>();
        var uid = pod.Metadata.Uid;
        if (!PodPaths.IsPathComponent(uid))
        {
            return failed;
        }

        foreach (var volume in pod.Spec.Volumes ?? [])
        {
            if (volume?.EmptyDir is not { } source || IsSetUp(uid, volume.Name))
            {
                continue;
            }

            try
            {
                if (!PodPaths.IsPathComponent(volume.Name))
                {
                    throw new VolumeException($"volume name \"{volume.Name}\" is not a single path component");
                }

                SetUpOne(pod, volume.Name, source);
                lock (_setUp)
                {
                    if (!_setUp.TryGetValue(uid, out var names))
                    {
                        _setUp[uid] = names = new HashSet<string>(StringComparer.Ordinal);
                    }

                    names.Add(volume.Name);
                }
            }
            catch (Exception e) when (e is VolumeException or IOException or UnauthorizedAccessException)
            {
                failed.Add((volume.Name, e.Message));
            }
        }

        return failed;
    }

    /// <summary>Forgets the pod (its directories are removed by <see cref="PodVolumes.Remove"/>, mounts first).</summary>
    public void Forget(string uid)
    {
        lock (_setUp)
        {
            _setUp.Remove(uid);
        }
    }

    private void SetUpOne(V1Pod pod, string name, V1EmptyDirVolumeSource source)
    {
        var medium = source.Medium ?? "";
        if (medium.StartsWith("HugePages", StringComparison.Ordinal))
        {
            // kubelet mounts hugetlbfs for a pod that requests hugepages; this node has no hugepage support for pods.
            throw new VolumeException(RequestsHugePages(pod)
                ? $"medium {medium}: hugePages emptyDir volumes are not supported by this node"
                : $"medium {medium}: hugePages storage requested, but there is no resource request for huge pages");
        }

        if (medium is not ("" or "Memory"))
        {
            throw new VolumeException($"unknown storage medium \"{medium}\"");
        }

        var dir = DirectoryOf(pod.Metadata.Uid, name);
        Directory.CreateDirectory(dir);
        // kubelet's setupDir: 0777 whatever the umask made of it, changed only when the permission bits differ (a
        // mounted tmpfs keeps its sticky bit, an owned volume its setgid, when set up again after a restart).
        if (((int)File.GetUnixFileMode(dir) & 0x1FF) != 0x1FF)
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1FF);
        }
        if (medium == "Memory")
        {
            var size = MemorySize(pod, source, nodeAllocatableMemory());
            if (host.EnsureEmptyDirTmpfs(dir, size))
            {
                LogTmpfs(PodPaths.FullName(pod), name, size);
            }
        }

        if (pod.Spec.SecurityContext?.FsGroup is { } fsGroup)
        {
            if (fsGroup is < 0 or > int.MaxValue)
            {
                throw new VolumeException($"securityContext.fsGroup {fsGroup} is not a group ID (0–{int.MaxValue})");
            }

            // kubelet's emptyDir passes no fsGroupChangePolicy: the whole tree, every time it is set up.
            host.SetVolumeOwnership(dir, (uint)fsGroup, readOnly: false, onRootMismatch: false);
        }
    }

    /// <summary>
    /// kubelet's calculateEmptyDirMemorySize (SizeMemoryBackedVolumes, on by default): the node's allocatable memory,
    /// or the pod's memory limit when it has one (every container declares one) and it is smaller, or the volume's
    /// <c>sizeLimit</c> when it is positive and smaller still.
    /// </summary>
    public static ulong MemorySize(V1Pod pod, V1EmptyDirVolumeSource source, long nodeAllocatableMemory)
    {
        decimal size = Math.Max(0, nodeAllocatableMemory);
        if (PodLimits.AllDeclare(pod, "memory") && PodLimits.Of(pod, "memory") is { } podLimit && podLimit > 0 && podLimit <= size)
        {
            size = podLimit;
        }

        decimal? volumeLimit = null;
        try
        {
            volumeLimit = source.SizeLimit?.ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NullReferenceException or InvalidOperationException)
        {
            // Not a quantity: validation rejects it; here it sets no limit.
        }

        if (volumeLimit is { } limit && limit > 0 && limit <= size)
        {
            size = limit;
        }

        return (ulong)decimal.Ceiling(size);
    }

    private static bool RequestsHugePages(V1Pod pod) =>
        (pod.Spec.Containers ?? []).Concat(pod.Spec.InitContainers ?? [])
            .Any(c => c?.Resources?.Requests?.Keys.Any(k => k.StartsWith("hugepages-", StringComparison.Ordinal)) == true);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: emptyDir {Volume}: tmpfs of {Size} bytes mounted")]
    private partial void LogTmpfs(string pod, string volume, ulong size);
}
