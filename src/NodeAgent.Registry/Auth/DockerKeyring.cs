using System.Text;
using System.Text.Json;
using NodeAgent.Images;
using NodeAgent.Cri;

namespace NodeAgent.Registry.Auth;

/// <summary>
/// Credentials from <c>imagePullSecrets</c>, matched to an image as kubelet's keyring does: a key is a registry host
/// (globs like <c>*.example.com</c> allowed) with an optional port and path prefix; <c>index.docker.io/v1/</c> and
/// friends mean <c>docker.io</c>; the most specific matching key comes first.
/// </summary>
public sealed class DockerKeyring
{
    public const string DockerConfigJsonType = "kubernetes.io/dockerconfigjson";
    public const string DockerCfgType = "kubernetes.io/dockercfg";
    public const string DockerConfigJsonKey = ".dockerconfigjson";
    public const string DockerCfgKey = ".dockercfg";

    private readonly List<(string Host, string Path, RegistryCredentials Credentials)> _entries = [];

    public int Count => _entries.Count;

    /// <summary>Adds the entries of one secret's data: <c>{"auths":{server:{…}}}</c> for dockerconfigjson,
    /// <c>{server:{…}}</c> for dockercfg; each entry has <c>auth</c> (base64 user:password) or
    /// <c>username</c>/<c>password</c>, and optionally <c>identitytoken</c>.</summary>
    /// <exception cref="FormatException">Names <paramref name="what"/> and the entry at fault.</exception>
    public void Add(string secretType, ReadOnlySpan<byte> data, string what)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(data.ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"{what}: not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"{what}: expected a JSON object");
            }
            if (secretType == DockerConfigJsonType)
            {
                if (!root.TryGetProperty("auths", out root) || root.ValueKind != JsonValueKind.Object)
                {
                    throw new FormatException($"{what}: {DockerConfigJsonType} without an \"auths\" object");
                }
            }
            else if (secretType != DockerCfgType)
            {
                throw new FormatException($"{what}: secret type \"{secretType}\" is not {DockerConfigJsonType} or {DockerCfgType}");
            }
            foreach (var server in root.EnumerateObject())
            {
                var creds = Entry(server.Value, $"{what}: entry \"{server.Name}\"");
                var (host, path) = NormaliseKey(server.Name);
                _entries.Add((host, path, creds));
            }
        }
        // Most specific first: longer hosts without globs, then longer paths.
        _entries.Sort((a, b) =>
        {
            var c = a.Host.Contains('*').CompareTo(b.Host.Contains('*'));
            if (c != 0)
            {
                return c;
            }
            c = b.Host.Length.CompareTo(a.Host.Length);
            return c != 0 ? c : b.Path.Length.CompareTo(a.Path.Length);
        });
    }

    /// <summary>Every matching credential, most specific first (kubelet tries each in turn).</summary>
    public IReadOnlyList<RegistryCredentials> Lookup(ImageReference image)
    {
        var result = new List<RegistryCredentials>();
        foreach (var (host, path, creds) in _entries)
        {
            if (HostMatches(host, image.Domain) && (path.Length == 0 || image.Path == path || image.Path.StartsWith(path + "/", StringComparison.Ordinal)))
            {
                result.Add(creds);
            }
        }
        return result;
    }

    private static RegistryCredentials Entry(JsonElement e, string what)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"{what}: expected an object");
        }
        string? Str(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var user = Str("username");
        var password = Str("password");
        if (Str("auth") is { Length: > 0 } auth)
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            }
            catch (FormatException)
            {
                throw new FormatException($"{what}: \"auth\" is not base64");
            }
            var colon = decoded.IndexOf(':');
            if (colon < 0)
            {
                throw new FormatException($"{what}: \"auth\" does not decode to user:password");
            }
            user = decoded[..colon];
            password = decoded[(colon + 1)..];
        }
        var token = Str("identitytoken");
        if (user is null && token is null)
        {
            throw new FormatException($"{what}: neither auth, username/password nor identitytoken");
        }
        return new RegistryCredentials(user ?? "", password ?? "", token);
    }

    /// <summary><c>https://index.docker.io/v1/</c> → (docker.io, ""); <c>reg:5000/team</c> → (reg:5000, team).</summary>
    internal static (string Host, string Path) NormaliseKey(string key)
    {
        var k = key.Trim();
        var scheme = k.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            k = k[(scheme + 3)..];
        }
        k = k.TrimEnd('/');
        var slash = k.IndexOf('/');
        var host = (slash < 0 ? k : k[..slash]).ToLowerInvariant();
        var path = slash < 0 ? "" : k[(slash + 1)..];
        if (host is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" or "docker.io")
        {
            host = "docker.io";
            if (path is "v1" or "v2")
            {
                path = "";
            }
        }
        return (host, path);
    }

    private static bool HostMatches(string pattern, string host)
    {
        host = host.ToLowerInvariant();
        if (!pattern.Contains('*'))
        {
            return pattern == host;
        }
        // kubelet: globs per dot-separated label, same number of labels, same port.
        var p = pattern.Split('.');
        var h = host.Split('.');
        if (p.Length != h.Length)
        {
            return false;
        }
        for (var i = 0; i < p.Length; i++)
        {
            if (!System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(p[i], h[i], ignoreCase: true))
            {
                return false;
            }
        }
        return true;
    }
}
