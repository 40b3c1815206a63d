using System.Net;
using System.Security.Cryptography.X509Certificates;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Server;
using NodeAgent.Server.Auth;
using NodeAgent.Server.Tls;
using NodeAgent.TestApiServer;
using NodeAgent.Tests.Support;
using Prometheus;

namespace NodeAgent.Tests.Server;

/// <summary>
/// A kubelet API server in-process, in Webhook mode against the in-process test API server (TokenReview and
/// SubjectAccessReview are real requests), with a self-signed serving certificate under a temporary root dir and
/// the test API server's CA as the client CA; it serves one real prometheus-net exposition at /metrics.
/// </summary>
internal sealed class KubeletApiTestServer : IAsyncDisposable
{
    public const string NodeName = "node1";

    private KubeletApiTestServer(TempDir dir, TestApiServerHost api, KubeApiConnection nodeConnection, ServingCertificate cert, KubeletApiServer server, CountingReviewer reviewer)
    {
        Dir = dir;
        Api = api;
        NodeConnection = nodeConnection;
        Certificate = cert;
        Server = server;
        Reviewer = reviewer;
    }

    public TempDir Dir { get; }

    public TestApiServerHost Api { get; }

    public KubeApiConnection NodeConnection { get; }

    public ServingCertificate Certificate { get; }

    public KubeletApiServer Server { get; }

    public CountingReviewer Reviewer { get; }

    public Uri Url => new(Server.Urls.Single().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal));

    public static async Task<KubeletApiTestServer> StartAsync()
    {
        var dir = new TempDir("kubelet-api");
        var api = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = dir.Combine("api"), Nodes = [NodeName], RunControllers = false });
        var node = new KubeApiConnection(KubeConfigLoader.LoadFile(api.NodeKubeconfig(NodeName)));
        var reviewer = new CountingReviewer(new ApiReviewer(new ReviewClient(node)));
        var cert = ServingCertificate.Open(null, null, dir.Combine("root"), "node1.example", [IPAddress.Loopback], NullLogger.Instance);
        var registry = Metrics.NewCustomRegistry();
        Metrics.WithCustomRegistry(registry).CreateCounter("nodeagent_test_requests_total", "A counter of the test exposition.").Inc(3);
        var server = new KubeletApiServer(new KubeletApiServerOptions
        {
            Address = IPAddress.Loopback,
            Port = 0,
            NodeName = NodeName,
            Certificate = cert,
            Authenticator = new KubeletAuthenticator(new X509Certificate2Collection(api.Pki.Ca), reviewer, anonymous: false, TimeSpan.FromMinutes(2), TimeProvider.System),
            Authorizer = new KubeletAuthorizer(reviewer, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), TimeProvider.System),
            Pods = new NoPods(),
            Expositions = [new RegistryExposition(registry)],
        }, NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);
        return new KubeletApiTestServer(dir, api, node, cert, server, reviewer);
    }

    /// <summary>A client of the kubelet API (its serving certificate is self-signed: trusted by thumbprint of the current one).</summary>
    public HttpClient Client(X509Certificate2? clientCertificate = null, string? token = null)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, c, _, _) => c is not null && c.GetCertHashString() == Certificate.Current.GetCertHashString();
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { clientCertificate };
        }

        var http = new HttpClient(handler) { BaseAddress = Url };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Certificate.Dispose();
        NodeConnection.Dispose();
        await Api.DisposeAsync();
        Dir.Dispose();
    }

    private sealed class NoPods : IPodLister
    {
        public IReadOnlyList<V1Pod> ListPods() => [];
    }
}

/// <summary>An exposition of a prometheus-net registry in the text format (what kmetrics' documents look like).</summary>
internal sealed class RegistryExposition(CollectorRegistry registry, string path = "/metrics") : IHttpExposition
{
    public string Path => path;

    public string Subresource => "metrics";

    public string ContentType => "text/plain; version=0.0.4; charset=utf-8";

    public Task WriteAsync(Stream body, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken) =>
        registry.CollectAndExportAsTextAsync(body, cancellationToken);
}

/// <summary>Counts the reviews that reach the API server (to see the caches at work), passing them on.</summary>
internal sealed class CountingReviewer(IKubeletReviewer inner) : IKubeletReviewer
{
    private int _tokens;
    private int _access;

    public int TokenReviews => Volatile.Read(ref _tokens);

    public int AccessReviews => Volatile.Read(ref _access);

    public Task<KubeletUser?> ReviewTokenAsync(string token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _tokens);
        return inner.ReviewTokenAsync(token, cancellationToken);
    }

    public Task<bool> ReviewAccessAsync(KubeletUser user, NodeAccess access, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _access);
        return inner.ReviewAccessAsync(user, access, cancellationToken);
    }
}
