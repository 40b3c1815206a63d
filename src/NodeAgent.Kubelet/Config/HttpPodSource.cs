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
/// A 304 or an unchanged body keeps the last snapshot; an unreachable URL, a non-2xx status or a body with errors is
/// logged (once per distinct failure) and keeps the last good snapshot. An empty 2xx body means no pods, as in kubelet.
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

    /// <inheritdoc />
    public string Name => PodSourceNames.Http;

    /// <inheritdoc />
    public async Task RunAsync(ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.CheckFrequency, _time);
        try
        {
            do
            {
                await PollOnceAsync(output, cancellationToken).ConfigureAwait(false);
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
        using var request = new HttpRequestMessage(HttpMethod.Get, _options.Url);
        foreach (var (key, values) in _options.Headers)
        {
            request.Headers.TryAddWithoutValidation(key, values);
        }

        if (_etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", _etag);
        }

        string body;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(_options.RequestTimeout);
            try
            {
                using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.NotModified)
                {
                    _logger.LogDebug("Manifest URL {Url} not modified (ETag {ETag})", url, _etag);
                    Recovered(url);
                    return;
                }

                if (!response.IsSuccessStatusCode)
                {
                    Fail($"manifest URL {url}: unexpected status {(int)response.StatusCode} {response.ReasonPhrase}; keeping the last pods");
                    return;
                }

                body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                _etag = response.Headers.ETag?.ToString();
            }
            catch (HttpRequestException e)
            {
                Fail($"manifest URL {url}: {e.Message}; keeping the last pods");
                return;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Fail($"manifest URL {url}: no response within {_options.RequestTimeout.TotalSeconds:0.#} s; keeping the last pods");
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
                    _logger.LogError("Manifest URL content rejected, keeping the last pods: {Error}", error.ToString());
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
