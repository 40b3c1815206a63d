using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using NodeAgent.Registry.Config;

namespace NodeAgent.Registry.Distribution;

/// <summary>One pooled <see cref="HttpClient"/> per endpoint (scheme, host, TLS settings), shared by all pulls.</summary>
internal sealed class RegistryHttp : IDisposable
{
    private readonly ConcurrentDictionary<string, HttpClient> _clients = new();
    private readonly TimeSpan _connectTimeout;

    public RegistryHttp(TimeSpan connectTimeout) => _connectTimeout = connectTimeout;

    public HttpClient For(RegistryEndpoint endpoint)
    {
        var c = endpoint.Config;
        var key = $"{endpoint.BaseUri.Scheme}://{endpoint.Host}|{c?.CaFile}|{c?.CertFile}|{c?.KeyFile}|{c?.InsecureSkipVerify}";
        return _clients.GetOrAdd(key, _ => new HttpClient(Handler(endpoint), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan });
    }

    private SocketsHttpHandler Handler(RegistryEndpoint endpoint)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _connectTimeout,
            AllowAutoRedirect = true, // blob redirects to storage; the Authorization header is not forwarded
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            MaxConnectionsPerServer = 16,
            UseProxy = false,
        };
        var c = endpoint.Config;
        if (endpoint.BaseUri.Scheme == "https" && c is not null)
        {
            var ssl = new SslClientAuthenticationOptions();
            if (c.CertFile is not null)
            {
                ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(c.CertFile, c.KeyFile)];
            }
            if (c.InsecureSkipVerify)
            {
                ssl.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            }
            else if (c.CaFile is not null)
            {
                var roots = new X509Certificate2Collection();
                roots.ImportFromPemFile(c.CaFile);
                ssl.RemoteCertificateValidationCallback = (_, cert, _, errors) =>
                {
                    if (cert is null)
                    {
                        return false;
                    }
                    if (errors == SslPolicyErrors.None)
                    {
                        return true;
                    }
                    if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                    {
                        return false;
                    }
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(new X509Certificate2(cert));
                };
            }
            handler.SslOptions = ssl;
        }
        return handler;
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values)
        {
            c.Dispose();
        }
    }
}
