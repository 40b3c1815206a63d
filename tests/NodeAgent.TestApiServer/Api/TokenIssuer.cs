using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Service-account tokens as the real server issues them through the TokenRequest API: ES256 JWTs with
/// <c>iss</c>, <c>sub</c> (<c>system:serviceaccount:NS:NAME</c>), <c>aud</c>, <c>exp</c>/<c>iat</c>/<c>nbf</c> and the
/// <c>kubernetes.io</c> claim binding them to the service account and, optionally, a pod (by UID).
/// </summary>
public sealed class TokenIssuer : IDisposable
{
    public const string Issuer = "https://kubernetes.default.svc.cluster.local";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly string _keyId;

    public TokenIssuer()
    {
        _keyId = Base64Url(SHA256.HashData(_key.ExportSubjectPublicKeyInfo()));
    }

    public string Sign(JsonObject claims)
    {
        var header = Base64Url(Encoding.UTF8.GetBytes(new JsonObject { ["alg"] = "ES256", ["kid"] = _keyId }.ToJsonString()));
        var payload = Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    /// <summary>The claims of a token this issuer signed, or null when the signature, the shape or the header do not check out.</summary>
    public JsonObject? Verify(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }
        try
        {
            var header = JsonNode.Parse(FromBase64Url(parts[0])) as JsonObject;
            if (header?["alg"]?.ToString() != "ES256" || header["kid"]?.ToString() != _keyId)
            {
                return null;
            }
            if (!_key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return null;
            }
            return JsonNode.Parse(FromBase64Url(parts[1])) as JsonObject;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }

    public void Dispose() => _key.Dispose();
}
