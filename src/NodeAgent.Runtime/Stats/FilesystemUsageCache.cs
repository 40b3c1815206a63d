using System.Collections.Concurrent;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Stats;

/// <summary>
/// Writable-layer and log-directory usage per container, measured by walking the trees (du) in the background and
/// read by collections without any I/O. Measurements of containers no longer running are dropped.
/// </summary>
internal sealed class FilesystemUsageCache(string rootDir, TimeProvider time)
{
    public sealed record Target(string ContainerId, string WritableLayer, string? LogDirectory);

    private readonly ConcurrentDictionary<string, (FsUsage? Layer, FsUsage? Logs)> _usage = new(StringComparer.Ordinal);
    private string? _device;

    public (FsUsage? Layer, FsUsage? Logs) Get(string containerId) => _usage.GetValueOrDefault(containerId);

    public void Measure(IReadOnlyList<Target> targets, CancellationToken cancellationToken)
    {
        _device ??= Directory.Exists(rootDir) ? NodeReadings.DeviceName(rootDir) : "";
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            live.Add(t.ContainerId);
            var (layerBytes, layerInodes) = DiskUsage.Measure(t.WritableLayer, cancellationToken);
            var layer = new FsUsage(_device, layerBytes, layerInodes, time.GetUtcNow());
            FsUsage? logs = null;
            if (t.LogDirectory is { Length: > 0 } dir)
            {
                var (logBytes, logInodes) = DiskUsage.Measure(dir, cancellationToken);
                logs = new FsUsage(Directory.Exists(dir) ? NodeReadings.DeviceName(dir) : _device, logBytes, logInodes, time.GetUtcNow());
            }

            _usage[t.ContainerId] = (layer, logs);
        }

        foreach (var id in _usage.Keys)
        {
            if (!live.Contains(id))
            {
                _usage.TryRemove(id, out _);
            }
        }
    }
}
