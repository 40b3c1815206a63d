using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NodeAgent.Kube.Config;

/// <summary>
/// The configuration of a process running in a pod, as client-go's <c>rest.InClusterConfig</c> builds it:
/// <c>KUBERNETES_SERVICE_HOST</c>/<c>KUBERNETES_SERVICE_PORT</c>, the service-account token file (re-read as it rotates),
/// its CA bundle and namespace.
/// </summary>
public static class InClusterConfig
{
    /// <summary>Where the service-account volume is mounted.</summary>
    public const string DefaultServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";

    /// <summary>Builds the configuration from the environment (a lookup so tests need not set process variables).</summary>
    public static KubeClientConfig Load(Func<string, string?>? environment = null, string serviceAccountDir = DefaultServiceAccountDir)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var host = environment("KUBERNETES_SERVICE_HOST");
        var port = environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubeConfigException("in-cluster", "KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT",
                "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
        }
        if (!ushort.TryParse(port, out var portNumber) || portNumber == 0)
        {
            throw new KubeConfigException("in-cluster", "KUBERNETES_SERVICE_PORT", $"\"{port}\" is not a port number");
        }
        var hostPart = host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
        if (!Uri.TryCreate($"https://{hostPart}:{portNumber}", UriKind.Absolute, out var server))
        {
            throw new KubeConfigException("in-cluster", "KUBERNETES_SERVICE_HOST", $"\"{host}\" is not a host name or address");
        }
        var tokenFile = Path.Combine(serviceAccountDir, "token");
        if (!File.Exists(tokenFile))
        {
            throw new KubeConfigException("in-cluster", tokenFile, "the service-account token file does not exist");
        }
        var caFile = Path.Combine(serviceAccountDir, "ca.crt");
        X509Certificate2Collection? cas = null;
        if (File.Exists(caFile))
        {
            cas = new X509Certificate2Collection();
            try
            {
                cas.ImportFromPemFile(caFile);
            }
            catch (CryptographicException e)
            {
                throw new KubeConfigException("in-cluster", caFile, $"no valid PEM certificate: {e.Message}", e);
            }
        }
        var nsFile = Path.Combine(serviceAccountDir, "namespace");
        var ns = File.Exists(nsFile) ? File.ReadAllText(nsFile).Trim() : "";
        return new KubeClientConfig
        {
            Server = server,
            Description = "in-cluster",
            CertificateAuthorities = cas,
            BearerTokenFile = tokenFile,
            Namespace = ns.Length > 0 ? ns : "default",
        };
    }
}
