using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Http;
using NodeAgent.TestApiServer.Pki;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// x509 client certificates signed by the server's CA (user = CN, groups = O), and bearer tokens (the admin token,
/// bootstrap tokens, service-account tokens from the TokenRequest API).
/// A presented credential that does not verify is 401, as the real server answers; no credential is system:anonymous.
/// </summary>
public sealed class Authenticator(TestPki pki, string adminToken, TokenHandler tokens, BootstrapTokens bootstrapTokens)
{
    /// <summary>The admin token (the real server's static token file) and bootstrap tokens; null for any other.</summary>
    public UserInfo? AuthenticateStaticToken(string token) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(adminToken))
            ? new UserInfo("admin", ["system:masters", "system:authenticated"])
            : bootstrapTokens.Authenticate(token);

    public UserInfo? Authenticate(HttpContext context)
    {
        var auth = context.Request.Headers.Authorization.ToString();
        if (auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var token = auth["Bearer ".Length..].Trim();
            return AuthenticateStaticToken(token) ?? tokens.Authenticate(token);
        }
        if (context.Connection.ClientCertificate is { } cert)
        {
            if (!pki.Verify(cert))
            {
                return null;
            }
            var cn = cert.GetNameInfo(X509NameType.SimpleName, false);
            var groups = cert.SubjectName.EnumerateRelativeDistinguishedNames()
                .Where(r => r.GetSingleElementType().Value == "2.5.4.10")
                .Select(r => r.GetSingleElementValue() ?? "")
                .Where(o => o.Length > 0)
                .Append("system:authenticated")
                .ToList();
            return string.IsNullOrEmpty(cn) ? null : new UserInfo(cn, groups);
        }
        return UserInfo.Anonymous;
    }
}
