using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The manifest URL source (kubelet's <c>config/http.go</c>): polls a URL returning a Pod, a v1 PodList or
/// multi-document YAML, with the configured headers and <c>If-None-Match</c> once the server sent an ETag.
/// A 304 or an unchanged body keeps the last snapshot; an unreachable URL, a non-2xx status, a redirect loop, a body
/// larger than <see cref="ManifestLimits.MaxManifestBytes"/>, shorter than its Content-Length or not complete within
/// <see cref="HttpPodSourceOptions.RequestTimeout"/>, or a body with errors is logged (once per distinct failure,
/// naming the URL and the byte counts) and keeps the last good snapshot; polling goes on whatever happens. An empty 2xx
/// body means no pods, as in kubelet. Redirects are followed here, at most <see cref="MaxRedirects"/> (Go's http
/// client, which kubelet uses, stops after 10), when the client does not follow them itself (<see cref="CreateClient"/>).
/// </summary>
public sealed class HttpPodSource : IPodSource
{
    private readonly HttpPodSourceOptions _options;
    private readonly HttpClient _client;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PodManifestDecoder _decoder;
    private string? _etag;
    private string? _lastBodyHash;
    private string? _lastFailure;
    private HashSet<string> _reportedDuplicates = new(StringComparer.Ordinal);

    /// <summary>Creates the source; <paramref name="client"/> is not disposed by it.</summary>
    public HttpPodSource(HttpPodSourceOptions options, HttpClient client, ILogger<HttpPodSource> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(client);
        _options = options;
        _client = client;
        _logger = logger;
        _time = timeProvider;
        _decoder = new PodManifestDecoder(options.NodeName, PodSourceNames.Http);
    }

    /// <summary>Redirects followed per poll (Go's http client follows 10).</summary>
    public const int MaxRedirects = 10;

    /// <inheritdoc />
    public string Name => PodSourceNames.Http;

    /// <summary>The client this source is meant to use: no automatic redirects (the source follows and reports them).</summary>
    public static HttpClient CreateClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(10) }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

    /// <inheritdoc />
    public async Task RunAsync(ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.CheckFrequency, _time);
        try
        {
            do
            {
                try
                {
                    await PollOnceAsync(output, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not (OperationCanceledException or OutOfMemoryException))
                {
                    // Nothing one response holds may stop polling.
                    Fail($"manifest URL {_options.Url}: {e.GetType().Name}: {e.Message}; keeping the last pods");
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Fetches the URL once and writes a snapshot if the pods changed; failures are logged, never thrown.</summary>
    public async Task PollOnceAsync(ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken)
    {
        var url = _options.Url.ToString();
        string body;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.RequestTimeout);
            var received = new long[1];
            try
            {
                var fetched = await FetchAsync(url, received, timeout.Token).ConfigureAwait(false);
                if (fetched is null)
                {
                    return;
                }

                body = fetched;
            }
            catch (HttpRequestException e)
            {
                Fail($"manifest URL {url}: {e.Message}{Received(received[0])}; keeping the last pods");
                return;
            }
            catch (IOException e)
            {
                Fail($"manifest URL {url}: the body broke off after {received[0]} bytes: {e.Message}; keeping the last pods");
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Fail($"manifest URL {url}: no complete response within {_options.RequestTimeout.TotalSeconds:0.#} s{Received(received[0])}; keeping the last pods");
                return;
            }
        }

        Recovered(url);
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(body)));
        if (hash == _lastBodyHash)
        {
            return;
        }

        _lastBodyHash = hash;
        IReadOnlyList<V1Pod> pods;
        if (string.IsNullOrWhiteSpace(body))
        {
            _logger.LogWarning("Manifest URL {Url} returned an empty body: no pods from it", url);
            pods = [];
        }
        else
        {
            var result = _decoder.Decode(url, body);
            if (result.Errors.Count > 0)
            {
                foreach (var error in result.Errors)
                {
                    _logger.LogError("Manifest URL content rejected ({Bytes} bytes), keeping the last pods: {Error}", Encoding.UTF8.GetByteCount(body), error.ToString());
                }

                return;
            }

            var duplicates = new List<ManifestError>();
            pods = DuplicatePodFilter.Filter(result.Pods.Select(p => (p, url)), duplicates);
            var reported = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in duplicates.Select(d => d.ToString()))
            {
                reported.Add(d);
                if (!_reportedDuplicates.Contains(d))
                {
                    _logger.LogError("Manifest URL pod rejected: {Error}", d);
                }
            }

            _reportedDuplicates = reported;
        }

        await output.WriteAsync(new PodSourceUpdate(PodSourceNames.Http, pods), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GETs the URL following at most <see cref="MaxRedirects"/> redirects; null when a failure was reported
    /// or the content is unchanged (304).</summary>
    private async Task<string?> FetchAsync(string url, long[] received, CancellationToken cancellationToken)
    {
        var chain = new List<string> { url };
        var target = _options.Url;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, target);
            foreach (var (key, values) in _options.Headers)
            {
                request.Headers.TryAddWithoutValidation(key, values);
            }

            if (_etag is not null)
            {
                request.Headers.TryAddWithoutValidation("If-None-Match", _etag);
            }

            HttpResponseMessage sent;
            try
            {
                sent = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (chain.Count > 1)
            {
                throw new HttpRequestException($"{e.Message} (redirected: {string.Join(" -> ", chain)})", e);
            }

            using var response = sent;
            if (response.StatusCode == HttpStatusCode.NotModified)
            {
                _logger.LogDebug("Manifest URL {Url} not modified (ETag {ETag})", url, _etag);
                Recovered(url);
                return null;
            }

            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
            {
                if (hop >= MaxRedirects)
                {
                    Fail($"manifest URL {url}: stopped after {MaxRedirects} redirects ({string.Join(" -> ", chain)} -> {location}); keeping the last pods");
                    return null;
                }

                target = location.IsAbsoluteUri ? location : new Uri(target, location);
                chain.Add(target.ToString());
                continue;
            }

            var via = chain.Count > 1 ? $" (redirected: {string.Join(" -> ", chain)})" : string.Empty;
            if (!response.IsSuccessStatusCode)
            {
                Fail($"manifest URL {url}{via}: unexpected status {(int)response.StatusCode} {response.ReasonPhrase}; keeping the last pods");
                return null;
            }

            if (response.Content.Headers.ContentLength is > ManifestLimits.MaxManifestBytes and var length)
            {
                Fail($"manifest URL {url}{via}: the body is {length} bytes, larger than {ManifestLimits.MaxManifestBytes} (the API server's request size limit); not read; keeping the last pods");
                return null;
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var bytes = await ReadBoundedAsync(stream, received, cancellationToken).ConfigureAwait(false);
                if (bytes is null)
                {
                    Fail($"manifest URL {url}{via}: the body is larger than {ManifestLimits.MaxManifestBytes} bytes (the API server's request size limit); stopped reading after {received[0]} bytes; keeping the last pods");
                    return null;
                }

                if (response.Content.Headers.ContentLength is { } expected && expected != bytes.Length)
                {
                    Fail($"manifest URL {url}{via}: the body has {bytes.Length} bytes, its Content-Length says {expected}; keeping the last pods");
                    return null;
                }

                _etag = response.Headers.ETag?.ToString();
                return Encoding.UTF8.GetString(bytes);
            }
        }
    }

    /// <summary>The body, or null when it exceeds the limit (never reading more than one byte past it).</summary>
    private static async Task<byte[]?> ReadBoundedAsync(Stream stream, long[] received, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            var n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return buffer.ToArray();
            }

            received[0] += n;
            if (buffer.Length + n > ManifestLimits.MaxManifestBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, n);
        }
    }

    private static string Received(long bytes) => bytes > 0 ? $" ({bytes} bytes of the body received)" : string.Empty;

    private void Fail(string message)
    {
        if (message != _lastFailure)
        {
            _logger.LogError("{Failure}", message);
            _lastFailure = message;
        }
        else
        {
            _logger.LogDebug("{Failure}", message);
        }
    }

    private void Recovered(string url)
    {
        if (_lastFailure is not null)
        {
            _logger.LogInformation("Manifest URL {Url} reachable again", url);
            _lastFailure = null;
        }
    }
}
