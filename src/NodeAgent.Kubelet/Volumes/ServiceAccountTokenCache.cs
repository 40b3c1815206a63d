using k8s.Models;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// kubelet's token manager: service-account tokens from the TokenRequest API, bound to the pod (name and UID),
/// one per pod, service account, audience and lifetime; a token is requested again once 80 % of its lifetime has
/// passed or it is 24 hours old. When a renewal fails the current token is kept while it is still valid.
/// </summary>
public sealed class ServiceAccountTokenCache(
    Func<string, string, Authenticationv1TokenRequest, CancellationToken, Task<Authenticationv1TokenRequest>> request,
    TimeProvider time)
{
    /// <summary>The shortest lifetime the API server grants (10 minutes).</summary>
    public const long MinExpirationSeconds = 600;

    /// <summary>The longest lifetime a request may ask for (2^32 seconds, the API server's limit).</summary>
    public const long MaxExpirationSeconds = 1L << 32;

    private static readonly TimeSpan MaxAge = TimeSpan.FromHours(24);
    private readonly Dictionary<Key, Entry> _tokens = [];

    public async Task<ServiceAccountToken> GetAsync(V1Pod pod, string? audience, long expirationSeconds, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata.NamespaceProperty ?? "default";
        var account = string.IsNullOrEmpty(pod.Spec.ServiceAccountName) ? "default" : pod.Spec.ServiceAccountName;
        if (expirationSeconds is < MinExpirationSeconds or > MaxExpirationSeconds)
        {
            throw new ApiObjectsException($"service account token of {account}: expirationSeconds {expirationSeconds} is outside {MinExpirationSeconds}–{MaxExpirationSeconds}");
        }

        var key = new Key(pod.Metadata.Uid, ns, account, audience ?? string.Empty, expirationSeconds);
        Entry? entry;
        lock (_tokens)
        {
            _tokens.TryGetValue(key, out entry);
        }

        var now = time.GetUtcNow();
        if (entry is not null && now < entry.RefreshAt)
        {
            return entry.Token;
        }

        var tokenRequest = new Authenticationv1TokenRequest
        {
            ApiVersion = "authentication.k8s.io/v1",
            Kind = "TokenRequest",
            Spec = new V1TokenRequestSpec
            {
                Audiences = string.IsNullOrEmpty(audience) ? [] : [audience],
                ExpirationSeconds = expirationSeconds,
                BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod.Metadata.Name, Uid = pod.Metadata.Uid },
            },
        };
        try
        {
            var answer = await request(ns, account, tokenRequest, cancellationToken);
            var token = answer.Status?.Token;
            var expires = answer.Status?.ExpirationTimestamp;
            if (string.IsNullOrEmpty(token) || expires is null)
            {
                throw new ApiObjectsException($"service account token of {ns}/{account}: the API server answered without a token or an expiration");
            }

            // The lifetime the server granted (it may shorten or lengthen the request); refresh at 80 % of it.
            var expiresAt = new DateTimeOffset(DateTime.SpecifyKind(expires.Value, DateTimeKind.Utc));
            var lifetime = TimeSpan.FromSeconds(Math.Clamp(answer.Spec?.ExpirationSeconds ?? expirationSeconds, 1, MaxExpirationSeconds));
            var issuedAt = expiresAt - lifetime;
            var refreshAt = issuedAt + lifetime * 0.8;
            if (refreshAt > issuedAt + MaxAge)
            {
                refreshAt = issuedAt + MaxAge;
            }

            entry = new Entry(new ServiceAccountToken(token, expiresAt), refreshAt);
            lock (_tokens)
            {
                _tokens[key] = entry;
            }

            return entry.Token;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (entry is not null && now < entry.Token.ExpiresAt)
            {
                return entry.Token;
            }

            throw e as ApiObjectsException ?? new ApiObjectsException($"cannot get a service account token for {ns}/{account}: {e.Message}", e);
        }
    }

    /// <summary>Drops the pod's tokens.</summary>
    public void ForgetPod(string podUid)
    {
        lock (_tokens)
        {
            foreach (var key in _tokens.Keys.Where(k => k.PodUid == podUid).ToList())
            {
                _tokens.Remove(key);
            }
        }
    }

    /// <summary>How many tokens are kept (for tests).</summary>
    public int Count
    {
        get
        {
            lock (_tokens)
            {
                return _tokens.Count;
            }
        }
    }

    private readonly record struct Key(string PodUid, string Ns, string Account, string Audience, long ExpirationSeconds);

    private sealed record Entry(ServiceAccountToken Token, DateTimeOffset RefreshAt);
}
