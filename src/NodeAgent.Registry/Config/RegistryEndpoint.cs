namespace NodeAgent.Registry.Config;

/// <summary>One place to pull a registry's images from: a mirror or the registry itself.</summary>
/// <param name="BaseUri">Scheme and authority (and an optional path prefix) of the endpoint, e.g. <c>http://127.0.0.1:5000</c>.</param>
/// <param name="IsMirror">False for the registry's own (default) endpoint.</param>
/// <param name="Config">The <c>configs:</c> entry for this endpoint's host, if any.</param>
public sealed record RegistryEndpoint(Uri BaseUri, bool IsMirror, RegistryHostConfig? Config)
{
    /// <summary><c>host:port</c> as used in messages and config keys.</summary>
    public string Host => BaseUri.IsDefaultPort ? BaseUri.Host : $"{BaseUri.Host}:{BaseUri.Port}";

    public override string ToString() => BaseUri.ToString().TrimEnd('/');
}
