using NodeAgent.Registry.Auth;

namespace NodeAgent.Registry.Config;

/// <summary>A <c>configs:</c> entry of registries.yaml: credentials and TLS settings for one host (a registry or a mirror).</summary>
public sealed record RegistryHostConfig
{
    public RegistryCredentials? Auth { get; init; }

    /// <summary>PEM bundle of CAs trusted for this host (in addition to nothing else: the system store is not used).</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate and key (PEM) for mutual TLS.</summary>
    public string? CertFile { get; init; }

    public string? KeyFile { get; init; }

    public bool InsecureSkipVerify { get; init; }
}
