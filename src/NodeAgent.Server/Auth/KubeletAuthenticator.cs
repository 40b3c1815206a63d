using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NodeAgent.Server.Auth;

/// <summary>The outcome of authentication: a user, or why there is none (kubelet answers 401 either way).</summary>
public readonly record struct AuthenticationResult(KubeletUser? User, string? Error)
{
    public static AuthenticationResult Fail(string error) => new(null, error);
}

/// <summary>
/// kubelet's request authentication: a client certificate verified against the client CA bundle (user = CN,
/// groups = O); else a bearer token through TokenReview (answers cached for <see cref="TokenCacheTtl"/>, errors not
/// cached); else, with anonymous access on, <c>system:anonymous</c>. As in the API server's union, any one that
/// succeeds authenticates, and a certificate or token that is presented and fails is a failure even when anonymous
/// access is on. Authenticated users get the
/// <c>system:authenticated</c> group.
/// </summary>
public sealed class KubeletAuthenticator(X509Certificate2Collection? clientCas, IKubeletReviewer? tokens, bool anonymous, TimeSpan tokenCacheTtl, TimeProvider time)
{
    private readonly ExpiringCache<string, KubeletUser?> _tokenCache = new(time);

    public TimeSpan TokenCacheTtl => tokenCacheTtl;

    public async Task<AuthenticationResult> AuthenticateAsync(X509Certificate2? clientCertificate, string? authorization, CancellationToken cancellationToken)
    {
        AuthenticationResult? certificate = null;
        if (clientCertificate is not null && clientCas is { Count: > 0 })
        {
            certificate = VerifyCertificate(clientCertificate);
            if (certificate.Value.User is not null)
            {
                return certificate.Value;
            }
        }

        if (authorization is { Length: > 0 } header && tokens is not null)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header[7..].Trim() is not { Length: > 0 } token)
            {
                return AuthenticationResult.Fail("not a bearer token");
            }

            return await ReviewAsync(token, cancellationToken).ConfigureAwait(false);
        }

        // A certificate that failed is a failure (not anonymous), as the union fails when one authenticator errs.
        return certificate ?? (anonymous ? new(KubeletUser.Anonymous, null) : AuthenticationResult.Fail("no credentials"));
    }

    private AuthenticationResult VerifyCertificate(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(clientCas!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        chain.ChainPolicy.VerificationTime = time.GetUtcNow().UtcDateTime;
        if (!chain.Build(certificate))
        {
            var why = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0));
            return AuthenticationResult.Fail($"client certificate \"{certificate.Subject}\" is not valid for the client CA: {why}");
        }

        var name = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        if (string.IsNullOrEmpty(name))
        {
            return AuthenticationResult.Fail("client certificate has no common name");
        }

        var groups = certificate.SubjectName.EnumerateRelativeDistinguishedNames()
            .Where(r => r.GetSingleElementType().Value == "2.5.4.10")
            .Select(r => r.GetSingleElementValue() ?? string.Empty)
            .Where(g => g.Length > 0)
            .ToList();
        return new(new KubeletUser(name, groups).WithAuthenticatedGroup(), null);
    }

    private async Task<AuthenticationResult> ReviewAsync(string token, CancellationToken cancellationToken)
    {
        // Keyed by the token's hash: the cache holds no credential.
        var key = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        if (!_tokenCache.TryGet(key, out var user))
        {
            user = await tokens!.ReviewTokenAsync(token, cancellationToken).ConfigureAwait(false);
            _tokenCache.Set(key, user, tokenCacheTtl);
        }

        return user is null ? AuthenticationResult.Fail("invalid bearer token") : new(user.WithAuthenticatedGroup(), null);
    }
}
