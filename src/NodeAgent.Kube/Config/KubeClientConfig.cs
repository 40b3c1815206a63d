using System.Security.Cryptography.X509Certificates;

namespace NodeAgent.Kube.Config;

/// <summary>
/// Everything needed to talk to one API server as one identity: what client-go calls a rest.Config, resolved from a
/// kubeconfig context or the in-cluster environment. Certificates are already loaded and checked.
/// </summary>
public sealed record KubeClientConfig
{
    /// <summary>The API server's base address (https://host:port[/path]).</summary>
    public required Uri Server { get; init; }

    /// <summary>Where this came from, for messages: "kubeconfig /etc/k.conf context node1" or "in-cluster".</summary>
    public required string Description { get; init; }

    /// <summary>The server name to verify instead of the URL's host (kubeconfig <c>tls-server-name</c>).</summary>
    public string? TlsServerName { get; init; }

    /// <summary>Skip server certificate verification (kubeconfig <c>insecure-skip-tls-verify</c>).</summary>
    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary>The CA bundle that must have signed the server's certificate; null trusts the system store.</summary>
    public X509Certificate2Collection? CertificateAuthorities { get; init; }

    /// <summary>The client certificate with its private key, when the identity is a certificate.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>A fixed bearer token.</summary>
    public string? BearerToken { get; init; }

    /// <summary>A file holding the bearer token, re-read as it rotates (service-account tokens); wins over <see cref="BearerToken"/> as in client-go.</summary>
    public string? BearerTokenFile { get; init; }

    /// <summary>The context's namespace ("default" when unset).</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>Sustained requests per second (kubelet <c>--kube-api-qps</c>, default 50). Zero or less disables limiting.</summary>
    public double Qps { get; init; } = 50;

    /// <summary>Requests that may be made at once above the sustained rate (kubelet <c>--kube-api-burst</c>, default 100).</summary>
    public int Burst { get; init; } = 100;

    /// <summary>The User-Agent sent with every request.</summary>
    public string UserAgent { get; init; } = "nodeagent";
}
