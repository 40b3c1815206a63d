using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NodeAgent.Registry.Auth;
using NodeAgent.Registry.Config;

namespace NodeAgent.Registry.Distribution;

/// <summary>
/// The OCI distribution API for one repository on one endpoint: manifests (with media type negotiation and digest
/// verification) and blobs. Authenticates on demand: a 401's <c>WWW-Authenticate</c> challenge selects Basic
/// (credentials sent as is) or Bearer (a token fetched from the realm for the service and
/// <c>repository:NAME:pull</c> scope, with the credentials if any; anonymous otherwise), then the request is retried once.
/// </summary>
public sealed class RegistryClient(HttpClient http, RegistryEndpoint endpoint, string repository, IReadOnlyList<RegistryCredentials> credentials)
{
    private const long MaxManifestBytes = 4 << 20;
    private AuthenticationHeaderValue? _authorization;

    public RegistryEndpoint Endpoint => endpoint;

    /// <summary>Fetches a manifest or index by tag or digest. The body's sha256 must equal the requested digest, or
    /// (by tag) the <c>Docker-Content-Digest</c> header when the registry sends one.</summary>
    public async Task<(byte[] Body, string MediaType, string Digest)> GetManifestAsync(string reference, CancellationToken cancellationToken)
    {
        var what = $"registry {endpoint.Host}: manifest {repository}:{reference}";
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url($"manifests/{reference}"));
            foreach (var type in ManifestParser.AcceptedMediaTypes)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json", 0.5));
            return request;
        }, what, cancellationToken);
        if (response.Content.Headers.ContentLength > MaxManifestBytes)
        {
            throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: manifest of {response.Content.Headers.ContentLength} bytes is too large");
        }
        byte[] body;
        try
        {
            body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new RegistryException(RegistryErrorKind.Unavailable, $"{what}: connection lost reading the manifest: {e.Message}", e);
        }
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));
        var expected = reference.StartsWith("sha256:", StringComparison.Ordinal) ? reference
            : response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault() : null;
        if (expected is not null && expected.StartsWith("sha256:", StringComparison.Ordinal) && expected != digest)
        {
            throw new RegistryException(RegistryErrorKind.Corrupt, $"{what}: digest mismatch: expected {expected}, got {digest}");
        }
        var mediaType = ManifestParser.MediaType(body, response.Content.Headers.ContentType?.MediaType, what);
        return (body, mediaType, digest);
    }

    /// <summary>Opens a blob; the caller owns the response and must dispose it.</summary>
    public Task<HttpResponseMessage> GetBlobAsync(string digest, CancellationToken cancellationToken) =>
        SendAsync(() => new HttpRequestMessage(HttpMethod.Get, Url($"blobs/{digest}")), $"registry {endpoint.Host}: blob {repository}@{digest}", cancellationToken);

    private Uri Url(string tail) => new(endpoint.BaseUri, $"v2/{repository}/{tail}");

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> make, string what, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = make();
            request.Headers.Authorization = _authorization;
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new RegistryException(RegistryErrorKind.Unavailable, $"{what}: {Describe(e)}", e);
            }
            if (response.IsSuccessStatusCode)
            {
                return response;
            }
            using (response)
            {
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0 &&
                    await AuthenticateAsync(response, what, cancellationToken))
                {
                    continue;
                }
                throw await ErrorAsync(response, what, cancellationToken);
            }
        }
    }

    private async Task<bool> AuthenticateAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var challenges = response.Headers.WwwAuthenticate.SelectMany(h => AuthChallenge.Parse(h.ToString())).ToList();
        var creds = credentials.FirstOrDefault();
        if (challenges.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) is { } bearer)
        {
            _authorization = new AuthenticationHeaderValue("Bearer", await FetchTokenAsync(bearer, what, cancellationToken));
            return true;
        }
        if (challenges.Any(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) && creds is not null)
        {
            _authorization = Basic(creds);
            return true;
        }
        return false;
    }

    private async Task<string> FetchTokenAsync(AuthChallenge challenge, string what, CancellationToken cancellationToken)
    {
        if (challenge["realm"] is not { } realm || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("http" or "https"))
        {
            throw new RegistryException(RegistryErrorKind.Unauthorized, $"{what}: bearer challenge without a usable realm (\"{challenge["realm"]}\")");
        }
        var query = new StringBuilder(realmUri.Query.Length > 1 ? realmUri.Query[1..] + "&" : "");
        if (challenge["service"] is { } service)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }
        query.Append("scope=").Append(Uri.EscapeDataString($"repository:{repository}:pull"));
        var tokenUri = new UriBuilder(realmUri) { Query = query.ToString() }.Uri;
        var failures = new List<string>();
        // Each matching credential in turn (as kubelet does with several pull secrets), then anonymously.
        foreach (var creds in credentials.Cast<RegistryCredentials?>().Append(null))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, tokenUri);
            if (creds is not null)
            {
                request.Headers.Authorization = Basic(creds);
            }
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException e)
            {
                throw new RegistryException(RegistryErrorKind.Unavailable, $"{what}: token endpoint {realmUri.GetLeftPart(UriPartial.Path)}: {Describe(e)}", e);
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    failures.Add($"token endpoint {realmUri.GetLeftPart(UriPartial.Path)} answered {(int)response.StatusCode} {response.ReasonPhrase}" +
                        (creds is null ? " without credentials" : $" for user {creds.Username}"));
                    continue;
                }
                var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                try
                {
                    using var doc = JsonDocument.Parse(body);
                    foreach (var name in new[] { "token", "access_token" })
                    {
                        if (doc.RootElement.TryGetProperty(name, out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } token)
                        {
                            return token;
                        }
                    }
                }
                catch (JsonException)
                {
                }
                throw new RegistryException(RegistryErrorKind.Unauthorized, $"{what}: token endpoint {realmUri.GetLeftPart(UriPartial.Path)} returned no token");
            }
        }
        throw new RegistryException(RegistryErrorKind.Unauthorized, $"{what}: authentication failed: {string.Join("; ", failures)}");
    }

    /// <summary>The message with its inner causes ("The SSL connection could not be established: …").</summary>
    internal static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            var m = x.Message.Replace(", see inner exception.", "", StringComparison.Ordinal).TrimEnd('.');
            if (!parts.Contains(m))
            {
                parts.Add(m);
            }
        }
        return string.Join(": ", parts);
    }

    private static AuthenticationHeaderValue Basic(RegistryCredentials c) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.Username}:{c.Password}")));

    private async Task<RegistryException> ErrorAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var detail = "";
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array &&
                errors.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } first)
            {
                detail = string.Join(": ", new[] { "code", "message" }
                    .Select(k => first.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null)
                    .Where(s => !string.IsNullOrEmpty(s)));
            }
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
        }
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}" + (detail.Length > 0 ? $" ({detail})" : "");
        var kind = response.StatusCode switch
        {
            HttpStatusCode.NotFound => RegistryErrorKind.NotFound,
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => RegistryErrorKind.Unauthorized,
            _ => RegistryErrorKind.Unavailable,
        };
        var hint = response.StatusCode == HttpStatusCode.Unauthorized && credentials.Count == 0 ? ": authentication required and no credentials given" : "";
        return new RegistryException(kind, $"{what}: {status}{hint}");
    }
}
