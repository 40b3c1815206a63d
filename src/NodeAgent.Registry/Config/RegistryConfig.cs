namespace NodeAgent.Registry.Config;

/// <summary>
/// The node's registry configuration, in the shape of k3s' <c>registries.yaml</c>: <c>mirrors</c> (per registry
/// name, or <c>"*"</c> for all, a list of endpoint URLs tried in order) and <c>configs</c> (per host: auth and TLS).
/// The registry's own endpoint is always tried last unless a mirror already names it.
/// </summary>
public sealed class RegistryConfig
{
    public static RegistryConfig Empty { get; } = new(new Dictionary<string, IReadOnlyList<string>>(), new Dictionary<string, RegistryHostConfig>());

    public RegistryConfig(IReadOnlyDictionary<string, IReadOnlyList<string>> mirrors, IReadOnlyDictionary<string, RegistryHostConfig> configs)
    {
        Mirrors = mirrors;
        Configs = configs;
    }

    public IReadOnlyDictionary<string, IReadOnlyList<string>> Mirrors { get; }

    public IReadOnlyDictionary<string, RegistryHostConfig> Configs { get; }

    /// <summary>The endpoints for a registry name (<c>docker.io</c>, <c>ghcr.io</c>, <c>127.0.0.1:5000</c>), mirrors
    /// first. <paramref name="plainHttp"/> makes the registry's own endpoint http (the CLI's <c>--plain-http</c>).</summary>
    public IReadOnlyList<RegistryEndpoint> EndpointsFor(string registry, bool plainHttp = false)
    {
        var result = new List<RegistryEndpoint>();
        var mirrors = Mirrors.TryGetValue(registry, out var m) ? m : Mirrors.TryGetValue("*", out var any) ? any : [];
        foreach (var url in mirrors)
        {
            var uri = ParseEndpoint(url, $"mirror of {registry}");
            result.Add(new RegistryEndpoint(uri, true, HostConfig(uri, registry)));
        }
        var host = registry == "docker.io" ? "registry-1.docker.io" : registry;
        var upstream = new Uri((plainHttp ? "http://" : "https://") + host);
        if (!result.Any(e => e.BaseUri.Host == upstream.Host && e.BaseUri.Port == upstream.Port))
        {
            result.Add(new RegistryEndpoint(upstream, false, HostConfig(upstream, registry)));
        }
        return result;
    }

    private RegistryHostConfig? HostConfig(Uri uri, string registry)
    {
        var hostPort = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        return Configs.TryGetValue(hostPort, out var c) ? c
            : Configs.TryGetValue(uri.Host, out c) ? c
            : Configs.TryGetValue(registry, out c) ? c
            : null;
    }

    /// <summary><c>https://mirror:5000</c>, <c>http://10.0.0.1:5000/v2</c> or a bare <c>mirror:5000</c> (https).</summary>
    internal static Uri ParseEndpoint(string url, string what)
    {
        var text = url.Contains("://", StringComparison.Ordinal) ? url : "https://" + url;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FormatException($"{what}: endpoint \"{url}\" is not an http(s) URL");
        }
        // "/v2" (as containerd accepts it) is the API root, not a path prefix.
        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.EndsWith("/v2", StringComparison.Ordinal))
        {
            path = path[..^3];
        }
        return new UriBuilder(uri.Scheme, uri.Host, uri.Port, path + "/").Uri;
    }
}
