using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace NodeAgent.Images;

/// <summary>
/// k3s airgap style: imports every archive in <c>&lt;root&gt;/images/</c> at start and each archive written there
/// later. Writers should write elsewhere (or to a dot-file / <c>*.tmp</c> / <c>*.part</c> name, which is
/// ignored) and rename into place; a file written in place is imported on each change event and retried
/// when it changes again. What was imported (name + size + mtime) is remembered in
/// <c>&lt;root&gt;/metadata/drop-dir.json</c> so a restart does not re-import. A bad archive is logged and skipped.
/// </summary>
public sealed class ImageDropDirectoryImporter : IAsyncDisposable
{
    private readonly IImageStore _store;
    private readonly string _dropDir;
    private readonly string _stateFile;
    private readonly ILogger _logger;
    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private FileSystemWatcher? _watcher;
    private Task? _worker;

    public ImageDropDirectoryImporter(IImageStore store, string root, ILogger? logger = null)
    {
        _store = store;
        _dropDir = System.IO.Path.Combine(System.IO.Path.GetFullPath(root), "images");
        _stateFile = System.IO.Path.Combine(System.IO.Path.GetFullPath(root), "metadata", "drop-dir.json");
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Raised after each archive is processed: the file, the images imported, or the error.</summary>
    public event Action<string, IReadOnlyList<ImageRecord>?, Exception?>? ArchiveProcessed;

    public string DropDirectory => _dropDir;

    /// <summary>Imports what is already there, then watches for new archives until disposed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_dropDir);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(_stateFile)!);
        _watcher = new FileSystemWatcher(_dropDir) { IncludeSubdirectories = false, NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
        _watcher.Created += (_, e) => _queue.Writer.TryWrite(e.FullPath);
        _watcher.Changed += (_, e) => _queue.Writer.TryWrite(e.FullPath);
        _watcher.Renamed += (_, e) => _queue.Writer.TryWrite(e.FullPath);
        _watcher.EnableRaisingEvents = true;
        foreach (var file in Directory.EnumerateFiles(_dropDir).Order(StringComparer.Ordinal))
        {
            await ProcessAsync(file, cancellationToken);
        }
        _worker = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var path in _queue.Reader.ReadAllAsync(cancellationToken))
            {
                await ProcessAsync(path, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ProcessAsync(string path, CancellationToken cancellationToken)
    {
        var name = System.IO.Path.GetFileName(path);
        if (name.StartsWith('.') || name.EndsWith(".tmp", StringComparison.Ordinal) || name.EndsWith(".part", StringComparison.Ordinal))
        {
            return;
        }
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            return;
        }
        var state = LoadState();
        var seen = new DropRecord(info.Length, info.LastWriteTimeUtc);
        if (state.TryGetValue(name, out var previous) && previous == seen)
        {
            return;
        }
        IReadOnlyList<ImageRecord>? images = null;
        Exception? error = null;
        try
        {
            images = await _store.ImportAsync(path, cancellationToken);
            _logger.LogInformation("drop directory: imported {Archive}: {Images}", path, string.Join(", ", images.SelectMany(i => i.RepoTags)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            error = e;
            _logger.LogError("drop directory: cannot import {Archive}: {Error}", path, e.Message);
        }
        state[name] = seen; // a failed archive is retried only when it changes
        SaveState(state);
        ArchiveProcessed?.Invoke(path, images, error);
    }

    private Dictionary<string, DropRecord> LoadState()
    {
        try
        {
            using var s = File.OpenRead(_stateFile);
            return JsonSerializer.Deserialize(s, ImageJsonContext.Default.DictionaryStringDropRecord) ?? [];
        }
        catch (Exception e) when (e is FileNotFoundException or JsonException)
        {
            return [];
        }
    }

    private void SaveState(Dictionary<string, DropRecord> state)
    {
        var temp = _stateFile + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(state, ImageJsonContext.Default.DictionaryStringDropRecord));
        File.Move(temp, _stateFile, overwrite: true);
    }

    public async ValueTask DisposeAsync()
    {
        _watcher?.Dispose();
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        if (_worker is not null)
        {
            await _worker;
        }
        _stop.Dispose();
    }
}
