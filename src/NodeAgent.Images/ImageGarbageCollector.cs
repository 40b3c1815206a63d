using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NodeAgent.Images;

/// <summary>
/// kubelet's ImageGCManager over the image store: each pass notes when every image was first seen and marks the
/// images containers use as used now; when the filesystem holding the store is at or above the high threshold it
/// removes unused images, least recently used first (then oldest first seen), skipping images younger than the
/// minimum age, until usage would be at the low threshold. Images in use are never removed.
/// </summary>
public sealed partial class ImageGarbageCollector
{
    private readonly ImageStore _store;
    private readonly Func<IReadOnlySet<string>> _imagesInUse;
    private readonly ImageGcPolicy _policy;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<string, (long Capacity, long Available)> _statfs;
    private readonly Dictionary<string, (DateTimeOffset FirstDetected, DateTimeOffset LastUsed)> _records = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <param name="imagesInUse">IDs of the images any container (running or not) was created from.</param>
    /// <param name="statfs">Capacity and available bytes of the filesystem holding a path; defaults to statvfs.</param>
    public ImageGarbageCollector(ImageStore store, Func<IReadOnlySet<string>> imagesInUse, ImageGcPolicy? policy = null,
        TimeProvider? time = null, ILogger<ImageGarbageCollector>? logger = null, Func<string, (long, long)>? statfs = null)
    {
        _store = store;
        _imagesInUse = imagesInUse;
        _policy = policy ?? new ImageGcPolicy();
        _policy.Validate();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _statfs = statfs ?? Statfs;
    }

    /// <summary>One threshold-driven pass (kubelet's GarbageCollect).</summary>
    /// <exception cref="ImageException">InUse when the required amount could not be freed (kubelet's FreeDiskSpaceFailed).</exception>
    public async Task<ImageGcResult> CollectAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            var images = Detect(now);
            var (capacity, available) = _statfs(_store.Root);
            if (capacity <= 0)
            {
                throw new ImageException(ImageErrorKind.Io, $"image filesystem of {_store.Root}: invalid capacity {capacity}");
            }
            var usage = (int)(100 - available * 100 / capacity);
            if (usage < _policy.HighThresholdPercent)
            {
                return new ImageGcResult(usage, 0, [], 0);
            }
            var toFree = capacity * (100 - _policy.LowThresholdPercent) / 100 - available;
            LogOverThreshold(usage, _policy.HighThresholdPercent, toFree, _policy.LowThresholdPercent);
            var (removed, freed) = await FreeAsync(images, toFree, now, _policy.MinAge, cancellationToken);
            if (freed < toFree)
            {
                throw new ImageException(ImageErrorKind.InUse,
                    $"image filesystem of {_store.Root} is {usage}% full: attempted to free {toFree} bytes, but only found {freed} bytes eligible to free");
            }
            return new ImageGcResult(usage, toFree, removed, freed);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes every image no container uses, regardless of thresholds and age (<c>nodeagent images prune</c>).</summary>
    public async Task<ImageGcResult> RemoveUnusedAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            var (removed, freed) = await FreeAsync(Detect(now), long.MaxValue, now, TimeSpan.Zero, cancellationToken);
            return new ImageGcResult(0, 0, removed, freed);
        }
        finally
        {
            _gate.Release();
        }
    }

    private List<ImageRecord> Detect(DateTimeOffset now)
    {
        var images = _store.List().ToList();
        var inUse = _imagesInUse();
        foreach (var image in images)
        {
            var (first, last) = _records.TryGetValue(image.Id, out var r) ? r : (now, image.LastUsed ?? DateTimeOffset.MinValue);
            if (image.LastUsed is { } stored && stored > last)
            {
                last = stored;
            }
            _records[image.Id] = (first, inUse.Contains(image.Id) ? now : last);
        }
        foreach (var gone in _records.Keys.Except(images.Select(i => i.Id)).ToList())
        {
            _records.Remove(gone);
        }
        return images;
    }

    private async Task<(List<ImageRecord> Removed, long Freed)> FreeAsync(List<ImageRecord> images, long toFree, DateTimeOffset now, TimeSpan minAge, CancellationToken cancellationToken)
    {
        var inUse = _imagesInUse();
        var candidates = images
            .Where(i => !inUse.Contains(i.Id))
            .OrderBy(i => _records[i.Id].LastUsed)
            .ThenBy(i => _records[i.Id].FirstDetected)
            .ToList();
        var removed = new List<ImageRecord>();
        long freed = 0;
        foreach (var image in candidates)
        {
            if (freed >= toFree)
            {
                break;
            }
            if (now - _records[image.Id].FirstDetected < minAge)
            {
                continue;
            }
            try
            {
                await _store.RemoveAsync(image.Id, cancellationToken);
            }
            catch (ImageException e) when (e.Kind == ImageErrorKind.NotFound)
            {
                continue; // removed meanwhile (by hand)
            }
            _records.Remove(image.Id);
            removed.Add(image);
            freed += image.Size;
            LogRemoved(image.Id, string.Join(", ", image.RepoTags), image.Size);
        }
        return (removed, freed);
    }

    private static (long, long) Statfs(string path)
    {
        var drive = new DriveInfo(path);
        return (drive.TotalSize, drive.AvailableFreeSpace);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "image filesystem usage {Usage}% is at or over the high threshold {High}%: freeing {Bytes} bytes down to {Low}%")]
    private partial void LogOverThreshold(int usage, int high, long bytes, int low);

    [LoggerMessage(Level = LogLevel.Information, Message = "image GC removed image {Id} ({Names}, {Size} bytes)")]
    private partial void LogRemoved(string id, string names, long size);
}
