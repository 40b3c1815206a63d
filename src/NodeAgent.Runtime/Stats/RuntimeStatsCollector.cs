using System.Collections.Concurrent;
using NodeAgent.Cgroups;
using NodeAgent.Cri;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Stats;

/// <summary>
/// The runtime's stats service (<see cref="IRuntimeStats"/>): one collection at a time, kept for
/// <see cref="RuntimeStatsOptions.MaxAge"/> and shared by every caller. A collection reads each running container's
/// and each ready sandbox's cgroup (one reusable buffer, cached paths), each sandbox's interfaces through a netlink
/// socket opened once inside its namespace, and the node's /proc files; writable-layer and log usage come from a
/// background measurement every <see cref="RuntimeStatsOptions.FilesystemInterval"/>. A container or sandbox that
/// vanishes mid-read is left out and the snapshot stays valid.
/// </summary>
public sealed class RuntimeStatsCollector : IRuntimeStats, IDisposable
{
    private readonly LinuxRuntimeService _runtime;
    private readonly CollectionWorker[] _workers;
    private readonly ISnapshotter _snapshotter;
    private readonly RuntimeStatsOptions _options;
    private readonly TimeProvider _time;
    private readonly NodeReadings _node;
    private readonly SemaphoreSlim _collecting = new(1, 1);
    private readonly ConcurrentDictionary<string, LinkStatistics> _podLinks = new(StringComparer.Ordinal);
    private readonly FilesystemUsageCache _fs;
    private readonly CancellationTokenSource _stop = new();
    private RuntimeStatsSnapshot? _current;
    private Task? _fsLoop;
    private int _disposed;

    public RuntimeStatsCollector(LinuxRuntimeService runtime, ICgroupManager? cgroups, ISnapshotter snapshotter, string rootDir, RuntimeStatsOptions? options = null, TimeProvider? time = null)
    {
        _runtime = runtime;
        _workers = cgroups is null
            ? []
            : [.. Enumerable.Range(0, Math.Clamp(Environment.ProcessorCount, 1, 4)).Select(_ => new CollectionWorker(cgroups.CreateStatsReader(), _podLinks))];
        _snapshotter = snapshotter;
        _options = options ?? new RuntimeStatsOptions();
        _time = time ?? TimeProvider.System;
        _node = new NodeReadings(rootDir);
        _fs = new FilesystemUsageCache(rootDir, _time);
    }

    public async ValueTask<RuntimeStatsSnapshot> SnapshotAsync(CancellationToken cancellationToken)
    {
        if (Fresh(_current) is { } cached)
        {
            return cached;
        }

        await _collecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have collected while this one waited.
            if (Fresh(_current) is { } again)
            {
                return again;
            }

            _fsLoop ??= Task.Run(() => MeasureFilesystemsLoopAsync(_stop.Token), CancellationToken.None);
            var snapshot = Collect();
            Volatile.Write(ref _current, snapshot);
            return snapshot;
        }
        finally
        {
            _collecting.Release();
        }
    }

    /// <summary>Measures every running container's writable layer and logs now (the background loop does this every interval).</summary>
    public Task RefreshFilesystemUsageAsync(CancellationToken cancellationToken) =>
        Task.Run(() => _fs.Measure(Targets(), cancellationToken), cancellationToken);

    private RuntimeStatsSnapshot? Fresh(RuntimeStatsSnapshot? s) =>
        s is not null && _time.GetUtcNow() - s.Timestamp < _options.MaxAge ? s : null;

    private RuntimeStatsSnapshot Collect()
    {
        var now = _time.GetUtcNow();
        var errors = new List<string>();
        var (sandboxes, containers) = _runtime.StatsTargets();
        var byId = sandboxes.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var pods = new PodSandboxStats?[sandboxes.Count];
        var result = new ContainerStats?[containers.Count];
        var workerErrors = new List<string>[_workers.Length];

        // Each worker (own buffer, own path cache) takes every Nth sandbox and container: the reads are system calls
        // that wait on the kernel, so the machine's cores share them.
        Parallel.For(0, _workers.Length, w =>
        {
            var worker = _workers[w];
            var errs = workerErrors[w] = [];
            for (int i = w; i < sandboxes.Count; i += _workers.Length)
            {
                pods[i] = worker.ReadPod(sandboxes[i], now, errs);
            }

            for (int i = w; i < containers.Count; i += _workers.Length)
            {
                var (record, status) = containers[i];
                if (byId.ContainsKey(record.SandboxId))
                {
                    result[i] = worker.ReadContainer(record, status, now, _fs.Get(record.Id));
                }
            }

            worker.Sweep();
        });

        foreach (var e in workerErrors)
        {
            errors.AddRange(e);
        }

        ForgetGoneSandboxes(byId);
        return new RuntimeStatsSnapshot
        {
            Timestamp = now,
            Machine = _node.Machine(),
            Node = _node.Read(errors),
            Pods = [.. pods.OfType<PodSandboxStats>()],
            Containers = [.. result.OfType<ContainerStats>()],
            Errors = errors,
        };
    }

    private void ForgetGoneSandboxes(Dictionary<string, SandboxRecord> live)
    {
        foreach (var id in _podLinks.Keys.Where(id => !live.ContainsKey(id)).ToList())
        {
            if (_podLinks.TryRemove(id, out var links))
            {
                links.Dispose();
            }
        }
    }

    private List<FilesystemUsageCache.Target> Targets() =>
        _runtime.StatsTargets().Containers
            .Select(c => new FilesystemUsageCache.Target(c.Record.Id, _snapshotter.WritableLayerPath(c.Record.Id), Path.GetDirectoryName(c.Status.LogPath)))
            .ToList();

    private async Task MeasureFilesystemsLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.FilesystemInterval, _time);
        do
        {
            try
            {
                _fs.Measure(Targets(), cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or LinuxException)
            {
                // One bad walk never ends the loop; the next interval tries again.
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        try
        {
            _fsLoop?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
            // Cancelled.
        }

        foreach (var links in _podLinks.Values)
        {
            links.Dispose();
        }

        _node.Dispose();
        _stop.Dispose();
        _collecting.Dispose();
    }
}
