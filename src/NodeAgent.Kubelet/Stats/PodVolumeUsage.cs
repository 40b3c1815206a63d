using System.Collections.Concurrent;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Stats;

/// <summary>One volume's usage as <c>/stats/summary</c> reports it.</summary>
public readonly record struct VolumeUsage(string Name, ulong UsedBytes, ulong InodesUsed, DateTimeOffset At);

/// <summary>
/// kubelet's volume stats (its fsResourceAnalyzer): the usage of each pod's volumes, the kubelet's own directories
/// <c>&lt;root&gt;/pods/&lt;uid&gt;/volumes/&lt;plugin&gt;/&lt;name&gt;</c>, walked in the background at most once a
/// <see cref="Period"/> and never while a scrape waits (the first scrape of a period starts a walk and reads the last
/// one). Containers write into these directories, so the walk is hostile-proof: links are never followed,
/// unreadable entries are skipped, and one volume stops counting after <see cref="MaxEntries"/> entries.
/// </summary>
public sealed class PodVolumeUsage(string podsRoot, TimeProvider time)
{
    public const int MaxEntries = 1_000_000;

    private static readonly EnumerationOptions Walk = new()
    {
        RecurseSubdirectories = true,
        // Links are neither returned nor followed (a container's `ln -s / x` must not make the walk count the host).
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
        ReturnSpecialDirectories = false,
    };

    private volatile IReadOnlyDictionary<string, IReadOnlyList<VolumeUsage>> _usage = new Dictionary<string, IReadOnlyList<VolumeUsage>>();
    private long _lastStart = long.MinValue;
    private int _walking;

    /// <summary>How old the figures may get before a scrape starts a new walk (kubelet: one minute).</summary>
    public TimeSpan Period { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The pod's volumes as of the last walk (none before the first); starts a walk when the last is old.</summary>
    public IReadOnlyList<VolumeUsage> For(string podUid)
    {
        var now = time.GetTimestamp();
        if ((_lastStart == long.MinValue || time.GetElapsedTime(_lastStart, now) >= Period) && Interlocked.CompareExchange(ref _walking, 1, 0) == 0)
        {
            _lastStart = now;
            _ = Task.Run(() =>
            {
                try
                {
                    Refresh();
                }
                finally
                {
                    Volatile.Write(ref _walking, 0);
                }
            });
        }
        return _usage.TryGetValue(podUid, out var volumes) ? volumes : [];
    }

    /// <summary>Walks every pod's volumes now (the background walk; tests call it directly).</summary>
    public void Refresh()
    {
        var usage = new Dictionary<string, IReadOnlyList<VolumeUsage>>(StringComparer.Ordinal);
        if (Directory.Exists(podsRoot))
        {
            foreach (var podDir in SafeDirectories(podsRoot))
            {
                var uid = Path.GetFileName(podDir);
                var volumesDir = Path.Combine(podDir, "volumes");
                if (!PodPaths.IsPathComponent(uid) || IsLink(volumesDir) || !Directory.Exists(volumesDir))
                {
                    continue;
                }
                var volumes = new List<VolumeUsage>();
                foreach (var pluginDir in SafeDirectories(volumesDir).Where(d => !IsLink(d)))
                {
                    foreach (var volumeDir in SafeDirectories(pluginDir).Where(d => !IsLink(d)))
                    {
                        var (bytes, inodes) = Measure(volumeDir);
                        volumes.Add(new VolumeUsage(Path.GetFileName(volumeDir), bytes, inodes, time.GetUtcNow()));
                    }
                }
                usage[uid] = volumes;
            }
        }
        _usage = usage;
    }

    /// <summary>Bytes of regular files and the entries under <paramref name="dir"/> (itself included), links left out.</summary>
    public static (ulong Bytes, ulong Inodes) Measure(string dir)
    {
        ulong bytes = 0, inodes = 1;
        try
        {
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", Walk))
            {
                if (++inodes > MaxEntries)
                {
                    break;
                }
                if (entry is FileInfo file)
                {
                    bytes += (ulong)Math.Max(0, file.Length);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The volume went away mid-walk: what was counted stands.
        }
        return (bytes, inodes);
    }

    private static IEnumerable<string> SafeDirectories(string dir)
    {
        try
        {
            return Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static bool IsLink(string path) => new FileInfo(path).LinkTarget is not null;
}
