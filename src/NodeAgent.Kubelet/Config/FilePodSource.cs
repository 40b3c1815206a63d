using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The static pod directory source (kubelet's <c>config/file.go</c> and <c>file_linux.go</c>): reads every regular
/// file of the manifest directory (names starting with '.' and subdirectories are ignored) or a single manifest file,
/// and writes a full snapshot of the valid pods after every change reported by inotify (debounced) and at every
/// <see cref="FilePodSourceOptions.CheckFrequency"/>. A bad file is reported once per change of its content and never
/// stops the others; a missing directory yields an empty snapshot and is watched for until it appears.
/// </summary>
public sealed class FilePodSource : IPodSource
{
    private readonly FilePodSourceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PodManifestDecoder _decoder;
    private readonly Channel<Trigger> _triggers = Channel.CreateBounded<Trigger>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, CachedFile> _cache = new(StringComparer.Ordinal);
    private HashSet<string> _reportedDuplicates = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reportedSkips = new(StringComparer.Ordinal);
    private IReadOnlyList<V1Pod>? _published;
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
        List<string> files;
        if (Directory.Exists(path))
        {
            files = ListManifests(path);
            _reportedMissing = false;
        }
        else if (File.Exists(path))
        {
            files = [path];
            _reportedMissing = false;
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

        var candidates = new List<(V1Pod, string)>();
        var errors = new List<ManifestError>();
        foreach (var gone in _cache.Keys.Where(k => !files.Contains(k, StringComparer.Ordinal)).ToList())
        {
            _cache.Remove(gone);
        }

        foreach (var file in files)
        {
            var result = await ReadFileAsync(file, cancellationToken).ConfigureAwait(false);
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

    private List<string> ListManifests(string dir)
    {
        var files = new List<string>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(e, "Cannot list static pod manifest directory {Path}", dir);
            return files;
        }

        foreach (var entry in entries)
        {
            var name = Path.GetFileName(entry);
            if (name.StartsWith('.'))
            {
                continue;
            }

            if (Directory.Exists(entry))
            {
                if (_reportedSkips.Add(entry))
                {
                    _logger.LogInformation("Not recursing into manifest subdirectory {Path}", entry);
                }
            }
            else if (File.Exists(entry))
            {
                files.Add(entry);
            }
            else if (_reportedSkips.Add(entry))
            {
                _logger.LogWarning("Ignoring manifest path {Path}: not a regular file (dangling link or special file)", entry);
            }
        }

        return files;
    }

    private async Task<ManifestDecodeResult?> ReadFileAsync(string file, CancellationToken cancellationToken)
    {
        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Deleted between listing and reading, or unreadable: the next notification or resync settles it.
            _logger.LogDebug(e, "Cannot read manifest {Path}", file);
            _cache.Remove(file);
            return null;
        }

        var hash = Convert.ToHexString(SHA256.HashData(bytes));
        if (_cache.TryGetValue(file, out var cached) && cached.ContentHash == hash)
        {
            return cached.Result;
        }

        var result = _decoder.Decode(file, Encoding.UTF8.GetString(bytes));
        foreach (var error in result.Errors)
        {
            _logger.LogError("Static pod manifest rejected: {Error}", error.ToString());
        }

        foreach (var pod in result.Pods)
        {
            _logger.LogDebug("Read static pod {Namespace}/{Name} uid {Uid} from {Path}", pod.Metadata.NamespaceProperty, pod.Metadata.Name, pod.Metadata.Uid, file);
        }

        _cache[file] = new CachedFile(hash, result);
        return result;
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
        }
        else if (name is null || name.StartsWith('.'))
        {
            return;
        }

        _triggers.Writer.TryWrite(Trigger.Change);
    }

    private enum Trigger
    {
        Change,
        Resync,
    }

    private sealed record CachedFile(string ContentHash, ManifestDecodeResult Result);
}
