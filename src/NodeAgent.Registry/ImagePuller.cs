using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Images;
using NodeAgent.Registry.Auth;
using NodeAgent.Registry.Config;
using NodeAgent.Registry.Distribution;
using NodeAgent.Cri;

namespace NodeAgent.Registry;

/// <summary>
/// Pulls images over the OCI distribution API into an <see cref="ImageStore"/>: endpoints in order (mirrors, then the
/// registry), manifest negotiation and platform selection, the config, then the layers in parallel — each streamed
/// into the content store with its sha256 verified while written, layers already present skipped, a download cut
/// short restarted from scratch (up to <see cref="PullerOptions.Attempts"/> times), and each layer unpacked into its
/// snapshot as soon as it is in. The image is committed only when everything is in; a failed pull deletes the blobs
/// and snapshots it created that no image or other running pull uses. Pulls of the same reference share one task.
/// </summary>
public sealed partial class ImagePuller : IImagePuller, IDisposable
{
    private readonly ImageStore _store;
    private readonly OverlaySnapshotter? _snapshotter;
    private readonly RegistryConfig _config;
    private readonly PullerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RegistryHttp _http;
    private readonly ConcurrentDictionary<string, Task<PullResult>> _pulls = new();
    private readonly ConcurrentDictionary<string, int> _leases = new();
    private readonly ConcurrentDictionary<string, Task> _blobFetches = new();
    private readonly CancellationTokenSource _disposed = new();

    public ImagePuller(ImageStore store, OverlaySnapshotter? snapshotter, RegistryConfig? config = null, PullerOptions? options = null,
        TimeProvider? time = null, ILogger<ImagePuller>? logger = null)
    {
        _store = store;
        _snapshotter = snapshotter;
        _config = config ?? RegistryConfig.Empty;
        _options = options ?? new PullerOptions();
        _time = time ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _http = new RegistryHttp(_options.ConnectTimeout);
    }

    public Task<PullResult> PullAsync(string reference, PullRequest request, CancellationToken cancellationToken)
    {
        ImageReference parsed;
        try
        {
            parsed = ImageReference.Parse(reference);
        }
        catch (InvalidImageReferenceException e)
        {
            return Task.FromException<PullResult>(new RegistryException(RegistryErrorKind.InvalidReference, e.Message, e));
        }
        // Pulls share a task only when they would send the same credentials (a pod without the secret must not
        // get another pod's image through it, nor its failure).
        var creds = (request.Keyring?.Lookup(parsed) ?? []).Prepend(request.Credentials).Select(c => c is null ? "" : $"{c.Username}:{c.Password}:{c.IdentityToken}");
        var fingerprint = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", creds))))[..16];
        var key = $"{parsed}|{fingerprint}|{request.PlainHttp}|{request.Unpack}";
        var shared = _pulls.GetOrAdd(key, _ => RunSharedAsync(key, parsed, request));
        return shared.WaitAsync(cancellationToken);
    }

    private async Task<PullResult> RunSharedAsync(string key, ImageReference reference, PullRequest request)
    {
        await Task.Yield(); // leave GetOrAdd before any work
        try
        {
            return await PullOnceAsync(reference, request, _disposed.Token);
        }
        finally
        {
            _pulls.TryRemove(key, out _);
        }
    }

    private async Task<PullResult> PullOnceAsync(ImageReference reference, PullRequest request, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        var name = reference.Familiar;
        LogPulling(name);
        var (client, top) = await ResolveAsync(reference, request, ct);
        var (manifestBody, manifestDigest) = await SelectPlatformAsync(client, name, top, ct);
        var (configDesc, layers) = ManifestParser.ParseManifest(manifestBody, $"image {name} manifest {manifestDigest}");
        foreach (var layer in layers)
        {
            try
            {
                MediaTypes.CheckLayer(layer.MediaType, $"image {name} layer {layer.Digest}");
            }
            catch (ImageException e)
            {
                throw new RegistryException(RegistryErrorKind.Unsupported, e.Message, e);
            }
        }
        var digests = layers.Select(l => l.Digest).Append(configDesc.Digest).Append(manifestDigest).Distinct().ToList();
        var created = new ConcurrentBag<string>();
        var unpacked = new ConcurrentBag<string>();
        var tracker = new ProgressTracker(reference.ToString(), layers.Sum(l => Math.Max(0, l.Size)), layers.Count, request.Progress, _logger, _time);
        Lease(digests, +1);
        var leased = true;
        using var stopProgress = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reporting = tracker.RunAsync(_options.ProgressInterval, _options.LogInterval, stopProgress.Token);
        try
        {
            await FetchBlobAsync(client, name, configDesc, created, null, ct);
            var configBytes = await File.ReadAllBytesAsync(_store.Content.BlobPath(configDesc.Digest), ct);
            var diffIds = ManifestParser.ParseDiffIds(configBytes, $"image {name} config {configDesc.Digest}");
            if (diffIds.Count != layers.Count)
            {
                throw new RegistryException(RegistryErrorKind.Corrupt, $"image {name}: config {configDesc.Digest} lists {diffIds.Count} diff_ids for {layers.Count} layers");
            }
            await LayersAsync(client, name, layers, diffIds, created, unpacked, tracker, request.Unpack, ct);
            await using (var manifestStream = new MemoryStream(manifestBody, writable: false))
            {
                if ((await _store.Content.IngestAsync(manifestStream, manifestDigest, manifestBody.Length, $"image {name} manifest", ct)).Created)
                {
                    created.Add(manifestDigest);
                }
            }
            var size = Math.Max(0, configDesc.Size) + layers.Sum(l => Math.Max(0, l.Size));
            var image = await _store.CommitPullAsync(new PulledImage(reference.ToString(), top.Digest, manifestDigest, configDesc.Digest,
                layers.Select(l => l.Digest).ToList(), size), _time.GetUtcNow(), ct);
            await stopProgress.CancelAsync();
            await reporting;
            tracker.Complete();
            var duration = _time.GetElapsedTime(started);
            LogPulled(name, size, tracker.Downloaded, duration.TotalSeconds, client.Endpoint.ToString());
            return new PullResult(image, size, tracker.Downloaded, duration);
        }
        catch (Exception e)
        {
            await stopProgress.CancelAsync();
            await reporting;
            Lease(digests, -1);
            leased = false;
            await CleanupAsync(created, unpacked);
            LogFailed(name, e.Message);
            throw e switch
            {
                RegistryException => e,
                ImageException ie => new RegistryException(ie.Kind switch
                {
                    ImageErrorKind.Corrupt or ImageErrorKind.PathEscape => RegistryErrorKind.Corrupt,
                    ImageErrorKind.Unsupported => RegistryErrorKind.Unsupported,
                    ImageErrorKind.NotFound => RegistryErrorKind.NotFound,
                    _ => RegistryErrorKind.Unavailable,
                }, ie.Message, ie),
                OperationCanceledException => e,
                _ => new RegistryException(RegistryErrorKind.Unavailable, $"image {name}: {e.Message}", e),
            };
        }
        finally
        {
            if (leased)
            {
                Lease(digests, -1);
            }
        }
    }

    /// <summary>Tries each endpoint for the top-level manifest; the first that has it serves the whole pull.</summary>
    private async Task<(RegistryClient Client, (byte[] Body, string MediaType, string Digest) Top)> ResolveAsync(
        ImageReference reference, PullRequest request, CancellationToken ct)
    {
        var errors = new List<RegistryException>();
        var endpoints = _config.EndpointsFor(reference.Domain, request.PlainHttp);
        foreach (var endpoint in endpoints)
        {
            var creds = new List<RegistryCredentials>();
            if (request.Credentials is { } explicitCreds)
            {
                creds.Add(explicitCreds);
            }
            // Pull secrets name the registry, so they go to it (also when it is listed as its own mirror, e.g. for plain http).
            if (request.Keyring is { } keyring && (!endpoint.IsMirror || endpoint.Host == reference.Domain))
            {
                creds.AddRange(keyring.Lookup(reference));
            }
            if (endpoint.Config?.Auth is { } nodeCreds)
            {
                creds.Add(nodeCreds);
            }
            var client = new RegistryClient(_http.For(endpoint), endpoint, reference.Path, creds);
            try
            {
                return (client, await client.GetManifestAsync(reference.Digest ?? reference.Tag!, ct));
            }
            catch (RegistryException e) when (e.Kind is RegistryErrorKind.Unavailable or RegistryErrorKind.NotFound or RegistryErrorKind.Unauthorized)
            {
                errors.Add(e);
                if (endpoint != endpoints[^1])
                {
                    LogEndpointFailed(reference.Familiar, endpoint.ToString(), e.Message);
                }
            }
        }
        var last = errors[^1];
        var message = $"pull {reference.Familiar}: " + string.Join("; ", errors.Select(e => e.Message));
        throw new RegistryException(last.Kind, message, last);
    }

    private async Task<(byte[] Body, string Digest)> SelectPlatformAsync(RegistryClient client, string name,
        (byte[] Body, string MediaType, string Digest) top, CancellationToken ct)
    {
        var current = top;
        for (var depth = 0; MediaTypes.IsIndex(current.MediaType); depth++)
        {
            if (depth >= 4)
            {
                throw new RegistryException(RegistryErrorKind.Corrupt, $"image {name}: index {current.Digest} nested too deeply");
            }
            var entries = ManifestParser.ParseIndex(current.Body, $"image {name} index {current.Digest}");
            var platform = _options.Platform;
            var best = entries
                .Select(e => (Entry: e, Rank: platform.Rank(e.Os, e.Architecture, e.Variant)))
                .Where(x => x.Rank is not null)
                .OrderByDescending(x => x.Rank)
                .Select(x => x.Entry)
                .FirstOrDefault();
            if (best is null)
            {
                var offered = string.Join(", ", entries.Select(e => $"{e.Os}/{e.Architecture}" + (e.Variant is null ? "" : "/" + e.Variant)));
                throw new RegistryException(RegistryErrorKind.Unsupported, $"image {name}: no manifest for platform {platform} in index {current.Digest} (offers {offered})");
            }
            current = await client.GetManifestAsync(best.Digest, ct);
        }
        if (!MediaTypes.IsManifest(current.MediaType))
        {
            throw new RegistryException(RegistryErrorKind.Unsupported, $"image {name}: unsupported manifest media type \"{current.MediaType}\" ({current.Digest})");
        }
        return (current.Body, current.Digest);
    }

    /// <summary>All layers at once (downloads bounded by the semaphore); the first failure cancels the rest and is
    /// the one reported.</summary>
    private async Task LayersAsync(RegistryClient client, string name, IReadOnlyList<Descriptor> layers, IReadOnlyList<string> diffIds,
        ConcurrentBag<string> created, ConcurrentBag<string> unpacked, ProgressTracker tracker, bool unpack, CancellationToken ct)
    {
        using var slots = new SemaphoreSlim(_options.MaxConcurrentDownloads);
        using var failFast = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var tasks = layers.Select(async (layer, i) =>
        {
            try
            {
                await LayerAsync(client, name, layer, diffIds[i], slots, created, unpacked, tracker, unpack, failFast.Token);
            }
            catch
            {
                await failFast.CancelAsync();
                throw;
            }
        }).ToList();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch when (!ct.IsCancellationRequested)
        {
            var first = tasks.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
            }
            throw;
        }
    }

    private async Task LayerAsync(RegistryClient client, string name, Descriptor layer, string diffId, SemaphoreSlim slots,
        ConcurrentBag<string> created, ConcurrentBag<string> unpacked, ProgressTracker tracker, bool unpack, CancellationToken ct)
    {
        if (_store.Content.Exists(layer.Digest))
        {
            tracker.Skipped(layer.Size);
        }
        else
        {
            await slots.WaitAsync(ct);
            try
            {
                await SharedFetchAsync(client, name, layer, created, tracker, ct);
            }
            finally
            {
                slots.Release();
            }
        }
        if (unpack && _snapshotter is not null)
        {
            var existed = Directory.Exists(_snapshotter.LayerPath(diffId));
            await _snapshotter.EnsureLayerAsync(diffId, layer.Digest, $"image {name} layer {layer.Digest}", ct);
            if (!existed)
            {
                unpacked.Add(diffId);
            }
        }
        tracker.LayerDone();
    }

    /// <summary>A layer that another running pull (of another image sharing it) is already downloading is awaited, not
    /// downloaded again. If that pull gives up (cancelled), the waiter downloads the layer itself; a real failure of the
    /// shared download fails both. New blobs belong to the pull that fetched them; the others hold leases on them.</summary>
    private async Task SharedFetchAsync(RegistryClient client, string name, Descriptor layer, ConcurrentBag<string> created, ProgressTracker tracker, CancellationToken ct)
    {
        while (true)
        {
            var mine = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var running = _blobFetches.GetOrAdd(layer.Digest, mine.Task);
            if (running != mine.Task)
            {
                try
                {
                    await running.WaitAsync(ct);
                    tracker.Skipped(layer.Size);
                    return;
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    continue; // the pull that was fetching it gave up: fetch it here
                }
            }
            try
            {
                await FetchBlobAsync(client, name, layer, created, tracker, ct);
                mine.SetResult();
                return;
            }
            catch (OperationCanceledException)
            {
                mine.TrySetCanceled();
                throw;
            }
            catch (Exception e)
            {
                mine.TrySetException(e);
                throw;
            }
            finally
            {
                _blobFetches.TryRemove(new KeyValuePair<string, Task>(layer.Digest, mine.Task));
            }
        }
    }

    /// <summary>Streams one blob into the content store; a connection cut or stalled mid-blob restarts it, a digest
    /// mismatch does not (the registry would serve the same bytes again).</summary>
    private async Task FetchBlobAsync(RegistryClient client, string name, Descriptor blob, ConcurrentBag<string> created, ProgressTracker? tracker, CancellationToken ct)
    {
        var what = $"image {name} blob {blob.Digest} from {client.Endpoint}";
        if (_store.Content.Exists(blob.Digest))
        {
            return; // another pull has just finished fetching it
        }
        for (var attempt = 1; ; attempt++)
        {
            long got = 0;
            try
            {
                using var response = await client.GetBlobAsync(blob.Digest, ct);
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                var (_, isNew) = await _store.Content.IngestAsync(body, blob.Digest, blob.Size >= 0 ? blob.Size : null, $"image {name} blob", ct,
                    n =>
                    {
                        got += n;
                        tracker?.Read(n);
                    },
                    _options.IdleTimeout);
                if (isNew)
                {
                    created.Add(blob.Digest);
                }
                return;
            }
            catch (Exception e) when (attempt < _options.Attempts && !ct.IsCancellationRequested &&
                (e is IOException or HttpRequestException || e is RegistryException { Kind: RegistryErrorKind.Unavailable }))
            {
                tracker?.Read(-(int)Math.Min(got, int.MaxValue));
                LogRetry(what, attempt, e.Message);
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new RegistryException(RegistryErrorKind.Unavailable, $"{what}: download failed after {attempt} attempts: {e.Message}", e);
            }
        }
    }

    private async Task CleanupAsync(IEnumerable<string> created, IEnumerable<string> unpacked)
    {
        try
        {
            await _store.DeleteUnreferencedAsync(created, unpacked, d => _leases.ContainsKey(d), CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ImageException)
        {
            LogCleanupFailed(e.Message);
        }
    }

    private void Lease(IEnumerable<string> digests, int delta)
    {
        foreach (var d in digests)
        {
            var n = _leases.AddOrUpdate(d, delta, (_, v) => v + delta);
            if (n <= 0)
            {
                _leases.TryRemove(new KeyValuePair<string, int>(d, n));
            }
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _http.Dispose();
        _disposed.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pulling image {Image}")]
    private partial void LogPulling(string image);

    [LoggerMessage(Level = LogLevel.Information, Message = "pulled image {Image} ({Size} bytes, {Downloaded} downloaded) in {Seconds:0.000} s from {Endpoint}")]
    private partial void LogPulled(string image, long size, long downloaded, double seconds, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pull of image {Image} failed: {Error}")]
    private partial void LogFailed(string image, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "image {Image}: endpoint {Endpoint} failed, trying the next: {Error}")]
    private partial void LogEndpointFailed(string image, string endpoint, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What}: attempt {Attempt} failed, restarting: {Error}")]
    private partial void LogRetry(string what, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cleanup after a failed pull: {Error}")]
    private partial void LogCleanupFailed(string error);
}
