using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// The volumes whose content comes from the API server — configMap, secret, downwardAPI and projected — as kubelet's
/// volume manager sets them up: under <c>&lt;pods&gt;/&lt;uid&gt;/volumes/kubernetes.io~{configmap,secret,downward-api,projected}/&lt;name&gt;</c>,
/// written by the <see cref="AtomicWriter"/>; secret and projected volumes on a tmpfs (through
/// <see cref="IVolumeHost"/>) so their content never reaches a disk. <see cref="SetUpAsync"/> runs before the
/// pod's sandbox, as kubelet's WaitForAttachAndMount (volumes set up before are left to the refresh); each failure is a <c>FailedMount</c> event
/// (<c>MountVolume.SetUp failed for volume "v" : configmap "x" not found</c>) and the pod does not start until every
/// volume has been set up once. <see cref="RunAsync"/> then writes every pod's volumes again each
/// <see cref="RefreshPeriod"/> (kubelet's sync period, 1 minute): an edited object, a renewed token or changed
/// labels reach the files through the <c>..data</c> swap; a failure then keeps the files as they were.
/// </summary>
public sealed partial class ApiVolumes(
    string podsRoot,
    IPodApiObjects objects,
    IVolumeHost host,
    IPodEventRecorder events,
    TimeProvider time,
    ILogger<ApiVolumes> logger)
{
    private readonly Dictionary<string, PodEntry> _pods = new(StringComparer.Ordinal);

    /// <summary>How often every pod's volumes are written again.</summary>
    public TimeSpan RefreshPeriod { get; init; } = TimeSpan.FromMinutes(1);

    public IPodApiObjects Objects => objects;

    /// <summary>
    /// The API-backed volumes of a node in API server mode, reading through <paramref name="connection"/> (the node's
    /// credential): pass the result to <see cref="PodVolumes"/> and run <see cref="RunAsync"/> beside the other loops.
    /// </summary>
    /// <remarks><paramref name="syncFrequency"/> (kubelet's <c>syncFrequency</c>, 1 minute) is both how often the volumes
    /// are written again and how long a read object is kept.</remarks>
    public static ApiVolumes Create(string podsRoot, NodeAgent.Kube.Http.KubeApiConnection connection, IVolumeHost host,
        IPodEventRecorder events, TimeProvider time, ILoggerFactory loggers, TimeSpan? syncFrequency = null) =>
        new(podsRoot, new ApiPodObjects(connection, time, loggers.CreateLogger<ApiPodObjects>()) { Ttl = syncFrequency ?? TimeSpan.FromMinutes(1) },
            host, events, time, loggers.CreateLogger<ApiVolumes>())
        {
            RefreshPeriod = syncFrequency ?? TimeSpan.FromMinutes(1),
        };

    /// <summary>True for the volume types this class serves.</summary>
    public static bool Handles(V1Volume volume) =>
        volume.ConfigMap is not null || volume.Secret is not null || volume.DownwardAPI is not null || volume.Projected is not null;

    /// <summary>The plugin directory name kubelet uses for the volume's type.</summary>
    public static string PluginDirectory(V1Volume volume) =>
        volume.ConfigMap is not null ? "kubernetes.io~configmap"
        : volume.Secret is not null ? "kubernetes.io~secret"
        : volume.DownwardAPI is not null ? "kubernetes.io~downward-api"
        : "kubernetes.io~projected";

    /// <summary>Secret and projected volumes (tokens, secrets) live on a tmpfs, as kubelet's memory-backed wrappers.</summary>
    public static bool MemoryBacked(V1Volume volume) => volume.Secret is not null || volume.Projected is not null;

    public string DirectoryOf(string uid, V1Volume volume) => Path.Combine(podsRoot, uid, "volumes", PluginDirectory(volume), volume.Name);

    /// <summary>True once the volume has been set up for the pod (its directory may be mounted).</summary>
    public bool IsSetUp(string uid, string volume)
    {
        lock (_pods)
        {
            return _pods.TryGetValue(uid, out var entry) && entry.SetUp.Contains(volume);
        }
    }

    /// <summary>Sets up the API volumes of <paramref name="pod"/> not set up yet and keeps the pod (its newest
    /// labels and annotations) for <see cref="RefreshAsync"/>.</summary>
    /// <exception cref="VolumeException">A volume that has never been set up failed: "unmounted volumes=[v]: …".</exception>
    public async Task SetUpAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var volumes = (pod.Spec.Volumes ?? []).Where(v => v is not null && Handles(v)).ToList();
        var uid = pod.Metadata.Uid;
        if (volumes.Count == 0 || !PodPaths.IsPathComponent(uid))
        {
            return;
        }

        PodEntry entry;
        lock (_pods)
        {
            if (!_pods.TryGetValue(uid, out entry!))
            {
                entry = new PodEntry();
                _pods[uid] = entry;
            }

            entry.Pod = pod;
        }

        // As kubelet's WaitForAttachAndMount, a pod sync waits only for volumes not yet set up; those already set up
        // are refreshed by RunAsync (kubelet's reconciler), so a sync never waits on the API server for them.
        List<V1Volume> pending;
        lock (_pods)
        {
            pending = volumes.Where(v => !entry.SetUp.Contains(v.Name)).ToList();
        }

        if (pending.Count == 0)
        {
            return;
        }

        var failed = await WriteAsync(entry, pod, pending, cancellationToken);
        if (failed.Count > 0)
        {
            throw new VolumeException($"unmounted volumes=[{string.Join(' ', failed.Select(f => f.Volume))}]: {string.Join("; ", failed.Select(f => f.Message))}");
        }
    }

    /// <summary>Writes every registered pod's volumes once (what <see cref="RunAsync"/> does each period).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        List<PodEntry> entries;
        lock (_pods)
        {
            entries = [.. _pods.Values];
        }

        foreach (var entry in entries)
        {
            var pod = entry.Pod;
            if (pod is null)
            {
                continue;
            }

            try
            {
                await WriteAsync(entry, pod, (pod.Spec.Volumes ?? []).Where(v => v is not null && Handles(v)).ToList(), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // One pod's trouble never stops the others' refresh.
                LogRefreshFailed(PodPaths.FullName(pod), e.Message);
            }
        }
    }

    /// <summary>Refreshes every <see cref="RefreshPeriod"/> until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RefreshPeriod, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await RefreshAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Unmounts the pod's memory-backed volumes and forgets the pod (its tokens too), so its directory can be
    /// removed. Looks at the directories on disk, not only what this run set up: an agent restarted since still
    /// unmounts what the one before mounted.
    /// </summary>
    /// <exception cref="VolumeException">An unmount failed: the pod's directory must then stay (removing it would empty a mounted tmpfs).</exception>
    public void TearDown(string uid)
    {
        if (!PodPaths.IsPathComponent(uid))
        {
            return;
        }

        PodEntry? entry;
        lock (_pods)
        {
            _pods.Remove(uid, out entry);
        }

        if (entry is not null)
        {
            entry.Removed = true;
            // A write in progress (never an API read: those happen outside the lock) finishes first; later ones see Removed.
            entry.Lock.Wait();
            entry.Lock.Release();
        }

        objects.ForgetPod(uid);
        var errors = new List<string>();
        foreach (var plugin in new[] { "kubernetes.io~secret", "kubernetes.io~projected" })
        {
            var dir = Path.Combine(podsRoot, uid, "volumes", plugin);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            foreach (var volume in Directory.EnumerateDirectories(dir))
            {
                try
                {
                    if (host.IsMountPoint(volume))
                    {
                        host.Unmount(volume);
                    }
                }
                catch (IOException e)
                {
                    errors.Add($"{volume}: {e.Message}");
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new VolumeException($"pod {uid}: cannot unmount volumes: {string.Join("; ", errors)}");
        }
    }

    private async Task<List<(string Volume, string Message)>> WriteAsync(PodEntry entry, V1Pod pod, List<V1Volume> volumes, CancellationToken cancellationToken)
    {
        var failed = new List<(string, string)>();
        foreach (var volume in volumes)
        {
            if (entry.Removed)
            {
                break;
            }

            try
            {
                if (!PodPaths.IsPathComponent(volume.Name))
                {
                    throw new VolumeException($"volume name \"{volume.Name}\" is not a single path component");
                }

                // The API reads happen outside the pod's lock, so a pod being removed never waits on the API server;
                // the payload comes first, so a volume whose object is missing leaves no directory (or tmpfs) behind.
                var payload = await VolumePayloads.ForAsync(pod, volume, objects, cancellationToken);
                await entry.Lock.WaitAsync(cancellationToken);
                try
                {
                    if (entry.Removed)
                    {
                        break;
                    }

                    Write(pod, volume, payload);
                }
                finally
                {
                    entry.Lock.Release();
                }

                lock (_pods)
                {
                    entry.SetUp.Add(volume.Name);
                }
            }
            catch (Exception e) when (e is VolumeException or IOException or UnauthorizedAccessException)
            {
                var message = $"MountVolume.SetUp failed for volume \"{volume.Name}\" : {e.Message}";
                events.Record(pod, "Warning", "FailedMount", message);
                LogSetUpFailed(PodPaths.FullName(pod), volume.Name, e.Message);
                bool setUpBefore;
                lock (_pods)
                {
                    setUpBefore = entry.SetUp.Contains(volume.Name);
                }

                if (!setUpBefore)
                {
                    failed.Add((volume.Name, message));
                }
            }
        }

        return failed;
    }

    private void Write(V1Pod pod, V1Volume volume, Dictionary<string, FileProjection> payload)
    {
        var dir = DirectoryOf(pod.Metadata.Uid, volume);
        Directory.CreateDirectory(dir);
        if (MemoryBacked(volume) && host.EnsureTmpfs(dir))
        {
            LogTmpfsMounted(PodPaths.FullName(pod), volume.Name, dir);
        }

        var fsGroup = FsGroup(pod);
        if (AtomicWriter.Write(dir, payload, volume.Name, host, fsGroup))
        {
            LogWritten(PodPaths.FullName(pod), volume.Name, payload.Count);
        }

        if (fsGroup is { } gid)
        {
            // kubelet's SetVolumeOwnership after the writer (no fsGroupChangePolicy for these plugins): the volume's
            // root and everything in it, read-only bits.
            host.SetVolumeOwnership(dir, gid, readOnly: true, onRootMismatch: false);
        }
    }

    /// <summary>The pod's fsGroup, checked: a group ID is 0–2^31-1.</summary>
    private static uint? FsGroup(V1Pod pod) => pod.Spec.SecurityContext?.FsGroup switch
    {
        null => null,
        >= 0 and <= int.MaxValue and var g => (uint)g,
        var g => throw new VolumeException($"securityContext.fsGroup {g} is not a group ID (0–{int.MaxValue})"),
    };

    private sealed class PodEntry
    {
        public V1Pod? Pod { get; set; }

        public HashSet<string> SetUp { get; } = new(StringComparer.Ordinal);

        public SemaphoreSlim Lock { get; } = new(1, 1);

        public volatile bool Removed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: MountVolume.SetUp failed for volume {Volume}: {Error}")]
    private partial void LogSetUpFailed(string pod, string volume, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: refreshing volumes failed: {Error}")]
    private partial void LogRefreshFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: volume {Volume}: tmpfs mounted on {Directory}")]
    private partial void LogTmpfsMounted(string pod, string volume, string directory);

    [LoggerMessage(Level = LogLevel.Debug, Message = "pod {Pod}: volume {Volume}: {Count} file(s) written")]
    private partial void LogWritten(string pod, string volume, int count);
}
