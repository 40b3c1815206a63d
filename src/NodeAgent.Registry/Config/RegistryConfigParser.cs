using NodeAgent.Registry.Auth;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NodeAgent.Registry.Config;

/// <summary>
/// Reads a k3s-style <c>registries.yaml</c> with YamlDotNet's node model (no reflection, AOT-safe):
/// <code>
/// mirrors:
///   docker.io:
///     endpoint: ["http://10.0.0.1:5000", "https://mirror.example"]
/// configs:
///   "mirror.example":
///     auth: { username: u, password: p }        # or auth: base64(user:pass), or identity_token
///     tls: { ca_file: /etc/ssl/m.pem, cert_file: …, key_file: …, insecure_skip_verify: false }
/// </code>
/// Unknown keys are errors (a typo must not silently drop a mirror); errors name the file, line and key.
/// </summary>
public static class RegistryConfigParser
{
    public static RegistryConfig Load(string path) => Parse(File.ReadAllText(path), path);

    public static RegistryConfig Parse(string text, string what)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new FormatException($"{what}:{e.Start.Line}:{e.Start.Column}: {e.Message}", e);
        }
        var mirrors = new Dictionary<string, IReadOnlyList<string>>();
        var configs = new Dictionary<string, RegistryHostConfig>();
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return new RegistryConfig(mirrors, configs);
        }
        var root = Map(stream.Documents[0].RootNode, what, "top level");
        foreach (var (key, value) in Entries(root, what))
        {
            switch (key)
            {
                case "mirrors":
                    foreach (var (registry, mirror) in Entries(Map(value, what, "mirrors"), what))
                    {
                        var endpoints = new List<string>();
                        foreach (var (k, v) in Entries(Map(mirror, what, $"mirrors.{registry}"), what))
                        {
                            if (k == "endpoint")
                            {
                                foreach (var e in Seq(v, what, $"mirrors.{registry}.endpoint"))
                                {
                                    var url = Scalar(e, what, $"mirrors.{registry}.endpoint");
                                    RegistryConfig.ParseEndpoint(url, At(e, what, $"mirrors.{registry}.endpoint"));
                                    endpoints.Add(url);
                                }
                            }
                            else if (k != "rewrite")
                            {
                                throw Unknown(v, what, $"mirrors.{registry}.{k}");
                            }
                        }
                        mirrors[registry] = endpoints;
                    }
                    break;
                case "configs":
                    foreach (var (host, config) in Entries(Map(value, what, "configs"), what))
                    {
                        configs[host] = HostConfig(Map(config, what, $"configs.{host}"), what, $"configs.{host}");
                    }
                    break;
                default:
                    throw Unknown(value, what, key);
            }
        }
        return new RegistryConfig(mirrors, configs);
    }

    private static RegistryHostConfig HostConfig(YamlMappingNode node, string what, string where)
    {
        var result = new RegistryHostConfig();
        foreach (var (key, value) in Entries(node, what))
        {
            switch (key)
            {
                case "auth":
                    string? user = null, password = null, token = null;
                    foreach (var (k, v) in Entries(Map(value, what, $"{where}.auth"), what))
                    {
                        var s = Scalar(v, what, $"{where}.auth.{k}");
                        switch (k)
                        {
                            case "username": user = s; break;
                            case "password": password = s; break;
                            case "identity_token": token = s; break;
                            case "auth":
                                var decoded = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(s));
                                (user, password) = decoded.IndexOf(':') is var c and > 0
                                    ? (decoded[..c], decoded[(c + 1)..])
                                    : throw new FormatException($"{At(v, what, $"{where}.auth.auth")}: does not decode to user:password");
                                break;
                            default: throw Unknown(v, what, $"{where}.auth.{k}");
                        }
                    }
                    result = result with { Auth = new RegistryCredentials(user ?? "", password ?? "", token) };
                    break;
                case "tls":
                    foreach (var (k, v) in Entries(Map(value, what, $"{where}.tls"), what))
                    {
                        var s = Scalar(v, what, $"{where}.tls.{k}");
                        result = k switch
                        {
                            "ca_file" => result with { CaFile = s },
                            "cert_file" => result with { CertFile = s },
                            "key_file" => result with { KeyFile = s },
                            "insecure_skip_verify" => result with
                            {
                                InsecureSkipVerify = bool.TryParse(s, out var b) ? b : throw new FormatException($"{At(v, what, $"{where}.tls.{k}")}: expected true or false, got \"{s}\""),
                            },
                            _ => throw Unknown(v, what, $"{where}.tls.{k}"),
                        };
                    }
                    break;
                default:
                    throw Unknown(value, what, $"{where}.{key}");
            }
        }
        return result;
    }

    private static IEnumerable<(string Key, YamlNode Value)> Entries(YamlMappingNode map, string what) =>
        map.Children.Select(kv => (Scalar(kv.Key, what, "key"), kv.Value));

    private static YamlMappingNode Map(YamlNode node, string what, string where) =>
        node as YamlMappingNode ?? throw new FormatException($"{At(node, what, where)}: expected a mapping");

    private static IEnumerable<YamlNode> Seq(YamlNode node, string what, string where) => node switch
    {
        YamlSequenceNode s => s.Children,
        YamlScalarNode => [node], // a single endpoint written as a string
        _ => throw new FormatException($"{At(node, what, where)}: expected a list"),
    };

    private static string Scalar(YamlNode node, string what, string where) =>
        node is YamlScalarNode { Value: { } v } ? v : throw new FormatException($"{At(node, what, where)}: expected a string");

    private static FormatException Unknown(YamlNode node, string what, string key) =>
        new($"{At(node, what, key)}: unknown key \"{key}\"");

    private static string At(YamlNode node, string what, string where) => $"{what}:{node.Start.Line}:{node.Start.Column}: {where}";
}
