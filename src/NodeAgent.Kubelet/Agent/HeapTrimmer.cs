using System.Runtime;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Kubelet.Agent;

/// <summary>
/// Gives memory back after pods go. A pod costs about its size while it is on the node (its manifest, status and
/// the buffers that parsed it); once it is removed that memory is garbage, but the GC keeps the heap it grew to
/// until allocation pressure makes it collect, and a quiet agent allocates almost nothing. So a short while after
/// the last pod removal (debounced: a wave of removals is one trim), when the heap has grown by at least
/// <see cref="Threshold"/> since the last trim, it runs one blocking, compacting, aggressive collection, which
/// also compacts the large object heap and decommits what the heap no longer uses.
/// A steady node never trims; the cost is one full collection after a wave of removals.
/// </summary>
public sealed partial class HeapTrimmer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Func<long> _committed;
    private readonly Action _trim;
    private ITimer? _timer;
    private long _afterLastTrim;
    private bool _disposed;

    public HeapTrimmer(TimeProvider time, ILogger<HeapTrimmer> logger)
        : this(time, logger, Committed, Compact)
    {
    }

    /// <summary>For tests: how memory in use is read and how a trim is done.</summary>
    internal HeapTrimmer(TimeProvider time, ILogger<HeapTrimmer> logger, Func<long> committed, Action trim)
    {
        _time = time;
        _logger = logger;
        _committed = committed;
        _trim = trim;
        _afterLastTrim = committed();
    }

    /// <summary>How long after the last removal the trim runs.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The growth (bytes of committed heap since the last trim) below which a trim is not worth a full collection.
    /// A wave of 30 pods grows the committed heap by 1-8 MiB (hack/bench/pod-churn). With 16 MiB here no wave was ever
    /// trimmed, and what the agent held after a churn depended on where the GC happened to be: 1-12 % above the
    /// start. With 4 MiB only some waves were trimmed and 5 % stayed. At 1 MiB every wave's removal is trimmed; the
    /// full collection of a heap this size costs a few ms, once per wave of removals.
    /// </summary>
    public long Threshold { get; init; } = 1L << 20;

    /// <summary>How many trims ran.</summary>
    public int Trims { get; private set; }

    /// <summary>For tests: called after each check with whether it trimmed.</summary>
    internal Action<bool>? Checked { get; init; }

    /// <summary>A pod was removed: trim once removals have been quiet for <see cref="Delay"/>.</summary>
    public void PodRemoved()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_timer is null)
            {
                _timer = _time.CreateTimer(_ => Run(), null, Delay, Timeout.InfiniteTimeSpan);
            }
            else
            {
                _timer.Change(Delay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Run()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _timer?.Dispose();
            _timer = null;
        }

        var trimmed = false;
        try
        {
            var before = _committed();
            if (before - _afterLastTrim < Threshold)
            {
                // Little grew since the last trim (or memory is lower than then): not worth a full collection.
                LogNotNeeded((before - _afterLastTrim) >> 20, Threshold >> 20);
                _afterLastTrim = Math.Min(_afterLastTrim, before);
            }
            else
            {
                _trim();
                var after = _committed();
                _afterLastTrim = after;
                Trims++;
                trimmed = true;
                var info = GC.GetGCMemoryInfo(GCKind.Any);
                LogTrimmed(before >> 20, after >> 20, info.HeapSizeBytes >> 20, Environment.WorkingSet >> 20);
            }
        }
        catch (Exception e)
        {
            // A timer callback must not throw; a failed trim costs only memory.
            LogTrimFailed(e.Message);
        }

        Checked?.Invoke(trimmed);
    }

    /// <summary>The managed heap's committed bytes: what the GC holds from the system.</summary>
    private static long Committed() => GC.GetGCMemoryInfo(GCKind.Any).TotalCommittedBytes;

    private static void Compact()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pods removed: heap trimmed, committed {Before} MiB -> {After} MiB (heap {Heap} MiB, resident {Resident} MiB)")]
    private partial void LogTrimmed(long before, long after, long heap, long resident);

    [LoggerMessage(Level = LogLevel.Information, Message = "pods removed: heap not trimmed, committed grew {Growth} MiB since the last trim (under {Threshold} MiB)")]
    private partial void LogNotNeeded(long growth, long threshold);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pods removed: heap trim failed: {Error}")]
    private partial void LogTrimFailed(string error);
}
