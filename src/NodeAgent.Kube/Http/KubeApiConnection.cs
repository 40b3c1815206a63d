using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kube.Config;

namespace NodeAgent.Kube.Http;

/// <summary>
/// One HTTPS connection pool to one API server as one identity, with client-go's request discipline: a client-side
/// token bucket (QPS/burst), <c>Retry-After</c> honoured on 429 and on 5xx that carry it, and retries on connection
/// failures: any request that never reached the server, and reads whose response broke off. Error responses become
/// <see cref="ApiException"/> carrying the server's <c>Status</c>.
/// </summary>
public sealed partial class KubeApiConnection : IDisposable
{
    /// <summary>client-go's default for retries after 429/Retry-After (<c>maxRetries</c> 10).</summary>
    public const int MaxRetries = 10;

    private static readonly TimeSpan TokenFileCacheTime = TimeSpan.FromMinutes(1);
    private readonly HttpClient _http;
    private readonly ClientRateLimiter _limiter;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _tokenLock = new();
    private readonly string _host;
    private string? _cachedToken;
    private long _tokenReadAt;

    public KubeApiConnection(KubeClientConfig config, ILogger? logger = null, TimeProvider? time = null, HttpMessageHandler? handler = null)
    {
        Config = config;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _limiter = new ClientRateLimiter(config.Qps, config.Burst, _time);
        _http = new HttpClient(handler ?? CreateHandler(config), disposeHandler: true)
        {
            BaseAddress = config.Server,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(config.UserAgent);
        _host = config.Server.Authority;
    }

    public KubeClientConfig Config { get; }

    /// <summary>Receives every attempt's method, host, status code and latency (null: none kept). Set once, before
    /// the first request, by whoever composes the connection with a metrics registry.</summary>
    public IRequestMetrics? Metrics { get; set; }

    /// <summary>Builds the handler: client certificate, CA pinning (or none with insecure-skip-tls-verify), server name override.</summary>
    public static SocketsHttpHandler CreateHandler(KubeClientConfig config)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        var ssl = handler.SslOptions;
        if (config.TlsServerName is not null)
        {
            ssl.TargetHost = config.TlsServerName;
        }
        if (config.ClientCertificate is not null)
        {
            ssl.ClientCertificates = [config.ClientCertificate];
            ssl.LocalCertificateSelectionCallback = (_, _, _, _, _) => config.ClientCertificate;
        }
        if (config.InsecureSkipTlsVerify)
        {
            ssl.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        }
        else if (config.CertificateAuthorities is { } cas)
        {
            ssl.RemoteCertificateValidationCallback = (_, certificate, _, errors) => ValidateAgainst(cas, certificate, errors);
        }
        return handler;
    }

    private static bool ValidateAgainst(X509Certificate2Collection cas, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    /// <summary>Sends a request and returns the successful response (the caller disposes it); errors throw <see cref="ApiException"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string pathAndQuery, byte[]? body, string? contentType,
        bool streamResponse, CancellationToken cancellationToken, string accept = "application/json")
    {
        var attempt = 0;
        while (true)
        {
            await _limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(method, pathAndQuery);
            request.Headers.Accept.ParseAdd(accept);
            if (BearerToken() is { } token)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? "application/json");
            }
            HttpResponseMessage response;
            var sent = _time.GetTimestamp();
            try
            {
                response = await _http.SendAsync(request, streamResponse ? HttpCompletionOption.ResponseHeadersRead : HttpCompletionOption.ResponseContentRead,
                    cancellationToken).ConfigureAwait(false);
                Observe(method, ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), sent);
            }
            catch (Exception) when (Observe(method, "<error>", sent))
            {
                // Never entered: the filter records the failed attempt (client-go's "<error>" code) and declines.
                throw;
            }
            catch (HttpRequestException e) when (attempt < MaxRetries && IsRetryable(method, e) && !cancellationToken.IsCancellationRequested)
            {
                attempt++;
                var delay = Backoff(attempt);
                LogConnectionRetry(_logger, method.Method, pathAndQuery, attempt, delay.TotalMilliseconds, e.Message);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            if (response.IsSuccessStatusCode)
            {
                return response;
            }
            if (attempt < MaxRetries && RetryAfter(response) is { } retryAfter)
            {
                attempt++;
                LogRetryAfter(_logger, method.Method, pathAndQuery, (int)response.StatusCode, retryAfter.TotalSeconds);
                response.Dispose();
                await Task.Delay(retryAfter, _time, cancellationToken).ConfigureAwait(false);
                continue;
            }
            using (response)
            {
                throw await ToExceptionAsync(method, pathAndQuery, response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Sends a request and decodes the response body as <typeparamref name="T"/> with the source-generated serializer.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string pathAndQuery, byte[]? body, string? contentType, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(method, pathAndQuery, body, contentType, streamResponse: false, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return KubernetesJson.Deserialize<T>(stream);
    }

    /// <summary>Reports one attempt; returns false so it can run in an exception filter without catching.</summary>
    private bool Observe(HttpMethod method, string code, long sent)
    {
        Metrics?.RequestCompleted(method.Method, _host, code, _time.GetElapsedTime(sent));
        return false;
    }

    private static async Task<ApiException> ToExceptionAsync(HttpMethod method, string path, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        V1Status? status = null;
        if (text.StartsWith('{'))
        {
            try
            {
                status = KubernetesJson.Deserialize<V1Status>(text);
                if (status.Kind != "Status")
                {
                    status = null;
                }
            }
            catch (System.Text.Json.JsonException)
            {
                status = null;
            }
        }
        return new ApiException(method, path, response.StatusCode, status, text);
    }

    /// <summary>
    /// A request that never reached the server (connect failed) may be sent again whatever its verb; one whose response
    /// broke off may only when repeating it cannot change anything (GET/HEAD/OPTIONS).
    /// </summary>
    private static bool IsRetryable(HttpMethod method, HttpRequestException e) =>
        e.HttpRequestError == HttpRequestError.ConnectionError
        || (IsSafe(method) && e.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.Unknown or HttpRequestError.InvalidResponse);

    private static bool IsSafe(HttpMethod method) => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options;

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var code = (int)response.StatusCode;
        if (code != 429 && code < 500)
        {
            return null;
        }
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta > TimeSpan.FromMinutes(1) ? TimeSpan.FromMinutes(1) : delta;
        }
        // client-go reads only the integer-seconds form; a 429 without the header is still worth one paced retry.
        return code == 429 && header is null ? TimeSpan.FromSeconds(1) : null;
    }

    private static TimeSpan Backoff(int attempt)
    {
        var ms = Math.Min(5000, 100 * Math.Pow(2, attempt - 1));
        return TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private string? BearerToken()
    {
        if (Config.BearerTokenFile is not { } file)
        {
            return Config.BearerToken;
        }
        lock (_tokenLock)
        {
            var now = _time.GetTimestamp();
            if (_cachedToken is null || _time.GetElapsedTime(_tokenReadAt, now) > TokenFileCacheTime)
            {
                try
                {
                    _cachedToken = File.ReadAllText(file).Trim();
                    _tokenReadAt = now;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Keep the last good token, as client-go's cachingTokenSource does; fall back to the static one.
                    LogTokenFileUnreadable(_logger, file, e.Message);
                    return _cachedToken ?? Config.BearerToken;
                }
            }
            return _cachedToken;
        }
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path}: connection failed (attempt {Attempt}), retrying in {DelayMs} ms: {Error}")]
    private static partial void LogConnectionRetry(ILogger logger, string method, string path, int attempt, double delayMs, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path}: {Code} with Retry-After, retrying in {Seconds} s")]
    private static partial void LogRetryAfter(ILogger logger, string method, string path, int code, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "bearer token file {File} cannot be read: {Error}")]
    private static partial void LogTokenFileUnreadable(ILogger logger, string file, string error);
}
