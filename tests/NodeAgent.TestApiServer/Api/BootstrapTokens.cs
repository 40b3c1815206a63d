using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// Bootstrap tokens (the real server's <c>--enable-bootstrap-token-auth</c>): a bearer token <c>ID.SECRET</c>
/// (6 and 16 characters of [a-z0-9]) is <c>system:bootstrap:ID</c> in <c>system:bootstrappers</c> (and the
/// <c>auth-extra-groups</c>) when the Secret <c>kube-system/bootstrap-token-ID</c> of type
/// <c>bootstrap.kubernetes.io/token</c> holds that id and secret, allows <c>usage-bootstrap-authentication</c>, has
/// not passed its <c>expiration</c> and is not being deleted.
/// </summary>
public sealed partial class BootstrapTokens(ObjectStore store, TimeProvider time)
{
    public const string SecretType = "bootstrap.kubernetes.io/token";

    [GeneratedRegex("^([a-z0-9]{6})\\.([a-z0-9]{16})$")]
    public static partial Regex TokenFormat();

    [GeneratedRegex("^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$")]
    private static partial Regex ExtraGroup();

    /// <summary>The user for <paramref name="token"/>; null when it is no bootstrap token, or not a valid one.</summary>
    public UserInfo? Authenticate(string token)
    {
        var match = TokenFormat().Match(token);
        if (!match.Success)
        {
            return null;
        }
        var id = match.Groups[1].Value;
        var secret = store.Get("secrets", "kube-system", "bootstrap-token-" + id)?.Parse();
        if (secret is null || secret["type"]?.ToString() != SecretType || secret["metadata"]?["deletionTimestamp"] is not null)
        {
            return null;
        }
        var data = secret["data"] as JsonObject;
        string? Field(string key)
        {
            try
            {
                return data?[key]?.ToString() is { } b64 ? Encoding.UTF8.GetString(Convert.FromBase64String(b64)) : null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
        if (Field("token-id") != id || Field("token-secret") is not { } expected
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(expected), Encoding.UTF8.GetBytes(match.Groups[2].Value)))
        {
            return null;
        }
        if (Field("usage-bootstrap-authentication") != "true")
        {
            return null;
        }
        if (Field("expiration") is { } expiration
            && (!DateTimeOffset.TryParse(expiration, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var until) || until <= time.GetUtcNow()))
        {
            return null;
        }
        var groups = new List<string> { "system:bootstrappers" };
        foreach (var g in (Field("auth-extra-groups") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!ExtraGroup().IsMatch(g))
            {
                // The real server refuses the whole token when an extra group is not a bootstrappers group.
                return null;
            }
            groups.Add(g);
        }
        groups.Add("system:authenticated");
        return new UserInfo("system:bootstrap:" + id, groups.Distinct().ToList());
    }

    /// <summary>The Secret a token <c>ID.SECRET</c> needs (usage authentication, extra group of kubeadm's join token).</summary>
    public static JsonObject SecretFor(string token, DateTimeOffset? expiration = null)
    {
        var match = TokenFormat().Match(token);
        if (!match.Success)
        {
            throw new ArgumentException($"bootstrap token \"{token}\" is not ID.SECRET with 6 and 16 characters of [a-z0-9]");
        }
        static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        var data = new JsonObject
        {
            ["token-id"] = B64(match.Groups[1].Value),
            ["token-secret"] = B64(match.Groups[2].Value),
            ["usage-bootstrap-authentication"] = B64("true"),
            ["usage-bootstrap-signing"] = B64("true"),
            ["auth-extra-groups"] = B64("system:bootstrappers:kubeadm:default-node-token"),
        };
        if (expiration is { } e)
        {
            data["expiration"] = B64(ObjectRules.Timestamp(e));
        }
        return new JsonObject
        {
            ["kind"] = "Secret",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["name"] = "bootstrap-token-" + match.Groups[1].Value, ["namespace"] = "kube-system" },
            ["type"] = SecretType,
            ["data"] = data,
        };
    }
}
