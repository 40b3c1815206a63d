using System.Text;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The static pod directory source (kubelet's <c>config/file.go</c> and <c>file_linux.go</c>): reads every regular
/// file of the manifest directory (names starting with '.' and subdirectories are ignored) or a single manifest file,
/// and writes a full snapshot of the valid pods after every change reported by inotify (debounced) and at every
/// <see cref="FilePodSourceOptions.CheckFrequency"/>. A bad file is reported once per change of its content and never
/// stops the others. Only regular files are opened, without blocking (a FIFO, socket or device named *.yaml is skipped
/// with a warning), and at most <see cref="ManifestLimits.MaxManifestBytes"/> are read; a file whose device, inode,
/// size, mtime and ctime are unchanged and that inotify did not name is not read again. A path missing at start
/// yields an empty snapshot; a path that disappears keeps the last snapshot for
/// <see cref="FilePodSourceOptions.MissingPathGrace"/> (kubelet would drop every pod at once), and an unreadable
/// directory keeps it until it is readable again (as kubelet).
/// </summary>
public sealed class FilePodSource : IPodSource
{
    private readonly FilePodSourceOptions _options;
    private readonly IHostFiles _files;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PodManifestDecoder _decoder;
    private readonly Channel<Trigger> _triggers = Channel.CreateBounded<Trigger>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, CachedFile> _cache = new(StringComparer.Ordinal);

    // What was last reported as rejected, per file: a re-read of the same file version with the same errors (after
    // the cache was dropped by a re-watch) is not reported again.
    private readonly Dictionary<string, (HostFileStatus Status, string Errors)> _reportedRejections = new(StringComparer.Ordinal);
    private HashSet<string> _reportedDuplicates = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reportedSkips = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _reportedUnreadable = new(StringComparer.Ordinal);
    private IReadOnlyList<V1Pod>? _published;
    private DateTimeOffset? _missingSince;
    private volatile IReadOnlyList<ManifestError> _errors = [];
    private FileSystemWatcher? _pathWatcher;
    private FileSystemWatcher? _parentWatcher;
    private bool _reportedMissing;

    /// <summary>Creates the source; nothing is read before <see cref="RunAsync"/>.</summary>
    public FilePodSource(FilePodSourceOptions options, ILogger<FilePodSource> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.ManifestPath);
        _options = options;
        _files = options.Files;
        _logger = logger;
        _time = timeProvider;
        _decoder = new PodManifestDecoder(options.NodeName, PodSourceNames.File);
    }

    /// <inheritdoc />
    public string Name => PodSourceNames.File;

    /// <summary>The errors of the last read (bad files, duplicates), for diagnostics.</summary>
    public IReadOnlyList<ManifestError> CurrentErrors => _errors;

    /// <inheritdoc />
    public async Task RunAsync(ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken)
    {
        using var resync = new PeriodicTimer(_options.CheckFrequency, _time);
        var ticker = TickAsync(resync, cancellationToken);
        try
        {
            await ScanAsync(output, cancellationToken).ConfigureAwait(false);
            while (await _triggers.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _triggers.Reader.TryRead(out var trigger);
                if (trigger == Trigger.Change)
                {
                    // Debounce: wait until no notification arrived for a whole quiet period.
                    do
                    {
                        await Task.Delay(_options.Debounce, _time, cancellationToken).ConfigureAwait(false);
                    }
                    while (_triggers.Reader.TryRead(out _));
                }

                await ScanAsync(output, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _pathWatcher?.Dispose();
            _parentWatcher?.Dispose();
            _pathWatcher = null;
            _parentWatcher = null;
            await ticker.ConfigureAwait(false);
        }
    }

    private async Task TickAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                _triggers.Writer.TryWrite(Trigger.Resync);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ScanAsync(ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken)
    {
        var path = _options.ManifestPath;
        EnsureWatchers(path);
        List<string>? files;
        if (Directory.Exists(path))
        {
            files = ListManifests(path);
            Reappeared(path);
        }
        else if (File.Exists(path))
        {
            files = [path];
            Reappeared(path);
        }
        else if (_published is { Count: > 0 } && !MissingGraceOver(path))
        {
            return;
        }
        else
        {
            if (!_reportedMissing)
            {
                _logger.LogWarning("Static pod manifest path {Path} does not exist; no static pods until it appears (watching for it)", path);
                _reportedMissing = true;
            }

            files = [];
        }

        if (files is null)
        {
            // The directory cannot be listed: keep the last snapshot, as kubelet does when the path is unreadable.
            return;
        }

        string[] dirty;
        lock (_dirty)
        {
            dirty = [.. _dirty];
            _dirty.Clear();
        }

        foreach (var name in dirty)
        {
            if (name.Length == 0)
            {
                _cache.Clear();
                break;
            }

            _cache.Remove(Path.Combine(path, name));
        }

        var candidates = new List<(V1Pod, string)>();
        var errors = new List<ManifestError>();
        var listed = files.ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _cache.Keys.Where(k => !listed.Contains(k)).ToList())
        {
            _cache.Remove(gone);
        }

        foreach (var gone in _reportedRejections.Keys.Where(k => !listed.Contains(k)).ToList())
        {
            _reportedRejections.Remove(gone);
        }

        foreach (var file in files)
        {
            ManifestDecodeResult? result;
            try
            {
                result = await ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
            {
                // Nothing about one file may stop the source: report it and carry on with the others.
                _logger.LogError(e, "Static pod manifest {Path} could not be processed; ignoring it", file);
                _cache.Remove(file);
                continue;
            }

            if (result is null)
            {
                continue;
            }

            errors.AddRange(result.Errors);
            candidates.AddRange(result.Pods.Select(p => (p, file)));
        }

        var duplicates = new List<ManifestError>();
        var pods = DuplicatePodFilter.Filter(candidates, duplicates);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in duplicates)
        {
            var text = d.ToString();
            reported.Add(text);
            if (!_reportedDuplicates.Contains(text))
            {
                _logger.LogError("Static pod manifest rejected: {Error}", text);
            }
        }

        _reportedDuplicates = reported;
        errors.AddRange(duplicates);
        _errors = errors;
        if (_published is not null && _published.SequenceEqual(pods, ReferenceEqualityComparer.Instance))
        {
            return;
        }

        _published = pods;
        await output.WriteAsync(new PodSourceUpdate(PodSourceNames.File, pods), cancellationToken).ConfigureAwait(false);
    }

    private void Reappeared(string path)
    {
        if (_missingSince is not null)
        {
            _logger.LogInformation("Static pod manifest path {Path} is back; reading it again", path);
            _missingSince = null;
        }

        _reportedMissing = false;
    }

    /// <summary>True once the path has been missing longer than the grace period (then the pods are dropped).</summary>
    private bool MissingGraceOver(string path)
    {
        var now = _time.GetUtcNow();
        if (_missingSince is null)
        {
            _missingSince = now;
            _logger.LogWarning(
                "Static pod manifest path {Path} disappeared; keeping its {Count} pods for {Grace} in case it comes back (editors and 'mv dir away; mv back' do this)",
                path, _published!.Count, _options.MissingPathGrace);
            return _options.MissingPathGrace <= TimeSpan.Zero;
        }

        if (now - _missingSince.Value < _options.MissingPathGrace)
        {
            return false;
        }

        _logger.LogWarning("Static pod manifest path {Path} has been missing for {Grace}; removing its pods", path, _options.MissingPathGrace);
        return true;
    }

    private List<string>? ListManifests(string dir)
    {
        var files = new List<string>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(e, "Cannot list static pod manifest directory {Path}; keeping the last pods", dir);
            return null;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith('.'))
            {
                continue;
            }

            seen.Add(entry);
            string? problem;
            if (_files.Stat(entry, out var stat) is not { } status)
            {
                problem = stat;
            }
            else if (status.Kind == HostFileKind.Directory)
            {
                if (_reportedSkips.Add(entry))
                {
                    _logger.LogInformation("Not recursing into manifest subdirectory {Path}", entry);
                }

                continue;
            }
            else if (status.Kind != HostFileKind.Regular)
            {
                problem = $"not a regular file but a {Describe(status.Kind)}";
            }
            else
            {
                problem = null;
            }

            if (problem is null)
            {
                files.Add(entry);
                _reportedUnreadable.Remove(entry);
            }
            else if (!_reportedUnreadable.TryGetValue(entry, out var reported) || reported != problem)
            {
                _reportedUnreadable[entry] = problem;
                _logger.LogWarning("Ignoring manifest path {Path}: {Problem}", entry, problem);
            }
        }

        foreach (var gone in _reportedUnreadable.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _reportedUnreadable.Remove(gone);
        }

        return files;
    }

    private static string Describe(HostFileKind kind) => kind switch
    {
        HostFileKind.Fifo => "FIFO",
        HostFileKind.Socket => "socket",
        HostFileKind.CharDevice => "character device",
        HostFileKind.BlockDevice => "block device",
        _ => "special file",
    };

    private async Task<ManifestDecodeResult?> ReadFileAsync(string file, CancellationToken cancellationToken)
    {
        if (_files.Stat(file, out _) is { } before && _cache.TryGetValue(file, out var cached) && cached.Status == before)
        {
            // Same device, inode, size, mtime and ctime, and inotify did not name it: the content is unchanged.
            return cached.Result;
        }

        byte[] bytes;
        HostFileStatus status;
        try
        {
            using var handle = _files.OpenNonBlocking(file, out status);
            if (status.Kind != HostFileKind.Regular)
            {
                // Replaced by a FIFO, socket or device between listing and opening.
                _logger.LogWarning("Ignoring manifest path {Path}: not a regular file but a {Kind}", file, Describe(status.Kind));
                _cache.Remove(file);
                return null;
            }

            if (status.Size > ManifestLimits.MaxManifestBytes)
            {
                return Remember(file, status, TooLarge(file, status.Size));
            }

            bytes = await ReadBoundedAsync(handle, cancellationToken).ConfigureAwait(false);
            if (bytes.Length > ManifestLimits.MaxManifestBytes)
            {
                return Remember(file, status, TooLarge(file, bytes.Length));
            }
        }
        catch (IOException e)
        {
            // Deleted between listing and reading, or unreadable: the next notification or resync settles it.
            _logger.LogWarning("Cannot read manifest {Path}: {Reason}", file, e.Message);
            _cache.Remove(file);
            return null;
        }

        var result = _decoder.Decode(file, Encoding.UTF8.GetString(bytes));

        foreach (var pod in result.Pods)
        {
            _logger.LogDebug("Read static pod {Namespace}/{Name} uid {Uid} from {Path}", pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid, file);
        }

        return Remember(file, status, result);
    }

    /// <summary>Caches the file's result and reports its errors, unless this version of the file was already reported with the same errors.</summary>
    private ManifestDecodeResult Remember(string file, HostFileStatus status, ManifestDecodeResult result)
    {
        _cache[file] = new CachedFile(status, result);
        if (result.Errors.Count == 0)
        {
            _reportedRejections.Remove(file);
            return result;
        }

        var errors = string.Join('\n', result.Errors);
        if (!_reportedRejections.TryGetValue(file, out var reported) || reported.Status != status || reported.Errors != errors)
        {
            foreach (var error in result.Errors)
            {
                _logger.LogError("Static pod manifest rejected: {Error}", error.ToString());
            }

            _reportedRejections[file] = (status, errors);
        }

        return result;
    }

    private static ManifestDecodeResult TooLarge(string file, long size) =>
        new([], [new ManifestError(file, null, null, null, null,
            $"the file is larger than {ManifestLimits.MaxManifestBytes} bytes (the API server's request size limit): {size} bytes or more; not read")]);

    /// <summary>Reads at most one byte more than the limit, so an endless file (or one growing) costs no more.</summary>
    private static async Task<byte[]> ReadBoundedAsync(Microsoft.Win32.SafeHandles.SafeFileHandle handle, CancellationToken cancellationToken)
    {
        var buffer = new byte[Math.Min(ManifestLimits.MaxManifestBytes + 1, Math.Max(4096, RandomAccess.GetLength(handle) + 1))];
        var total = 0;
        while (total <= ManifestLimits.MaxManifestBytes)
        {
            if (total == buffer.Length)
            {
                Array.Resize(ref buffer, Math.Min(ManifestLimits.MaxManifestBytes + 1, buffer.Length * 2));
            }

            var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(total), total, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total == buffer.Length ? buffer : buffer[..total];
    }

    private void EnsureWatchers(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        var parent = Path.GetDirectoryName(full);
        if (_parentWatcher is null && parent is not null && Directory.Exists(parent))
        {
            // Watches the manifest path itself appearing, disappearing or being replaced.
            _parentWatcher = CreateWatcher(parent, Path.GetFileName(full), onPathEvent: true);
        }

        if (Directory.Exists(full))
        {
            _pathWatcher ??= CreateWatcher(full, filter: null, onPathEvent: false);
        }
        else
        {
            _pathWatcher?.Dispose();
            _pathWatcher = null;
        }
    }

    private FileSystemWatcher? CreateWatcher(string dir, string? filter, bool onPathEvent)
    {
        try
        {
            var w = new FileSystemWatcher(dir)
            {
                IncludeSubdirectories = false,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.Attributes,
            };
            if (filter is not null)
            {
                w.Filter = filter;
            }

            FileSystemEventHandler changed = (_, e) => OnEvent(e.Name, onPathEvent);
            w.Created += changed;
            w.Changed += changed;
            w.Deleted += changed;
            w.Renamed += (_, e) =>
            {
                OnEvent(e.OldName, onPathEvent);
                OnEvent(e.Name, onPathEvent);
            };
            w.Error += (_, e) =>
            {
                _logger.LogWarning(e.GetException(), "inotify watch on {Path} failed; re-creating it and re-reading manifests", dir);
                _triggers.Writer.TryWrite(Trigger.Change);
            };
            w.EnableRaisingEvents = true;
            return w;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            _logger.LogWarning(e, "Cannot watch {Path} with inotify; relying on the periodic re-read", dir);
            return null;
        }
    }

    private void OnEvent(string? name, bool onPathEvent)
    {
        if (onPathEvent)
        {
            // The manifest path itself changed: its watch (if any) may point at a deleted inode.
            var stale = Interlocked.Exchange(ref _pathWatcher, null);
            stale?.Dispose();
            lock (_dirty)
            {
                // "" = re-read everything: the path itself (a single manifest file, or the directory) was replaced.
                _dirty.Add(string.Empty);
            }
        }
        else if (name is null || name.StartsWith('.'))
        {
            return;
        }
        else
        {
            // Named by inotify: read it again even if size and times look unchanged (same-tick rewrites).
            lock (_dirty)
            {
                _dirty.Add(name);
            }
        }

        _triggers.Writer.TryWrite(Trigger.Change);
    }

    private enum Trigger
    {
        Change,
        Resync,
    }

    private sealed record CachedFile(HostFileStatus Status, ManifestDecodeResult Result);
}
