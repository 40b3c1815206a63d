using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Controllers;
using NodeAgent.TestApiServer.Pki;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer;

/// <summary>
/// The Kubernetes API server for tests, in memory over HTTPS with a CA of its own. Start it in-process (tests) or
/// through Program (hack/test-apiserver.sh). A restart over the same <see cref="ObjectStore"/> keeps the data, as
/// a real API server restarts over etcd.
/// </summary>
public sealed class TestApiServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ApiRouter _router;
    private readonly CancellationTokenSource _stopping;
    private readonly Task _controllers;

    private TestApiServerHost(WebApplication app, ApiRouter router, CancellationTokenSource stopping, Task controllers, TestApiServerOptions options, TestPki pki, ObjectStore store, string adminToken, Uri url, TokenIssuer issuer)
    {
        _app = app;
        _router = router;
        _stopping = stopping;
        _controllers = controllers;
        Options = options;
        Pki = pki;
        Store = store;
        AdminToken = adminToken;
        Url = url;
        Issuer = issuer;
    }

    public TestApiServerOptions Options { get; }
    public TestPki Pki { get; }
    public ObjectStore Store { get; }
    public string AdminToken { get; }
    public Uri Url { get; }

    /// <summary>The service-account token signer; pass it to a restart so issued tokens stay valid.</summary>
    public TokenIssuer Issuer { get; }
    public string AdminKubeconfig => Path.Combine(Options.Directory, "admin.kubeconfig");

    /// <summary>Answers the next <paramref name="count"/> requests 429 Too Many Requests with Retry-After: 1.</summary>
    public void Throttle(int count) => _router.Throttle(count);

    /// <summary>The service proxy's credential (client certificate <c>system:kube-proxy</c>, bound to
    /// <c>system:node-proxier</c> as in a real cluster).</summary>
    public string KubeProxyKubeconfig => Path.Combine(Options.Directory, "kube-proxy.kubeconfig");

    public string NodeKubeconfig(string node) => Path.Combine(Options.Directory, node + ".kubeconfig");

    /// <summary>Starts a server; pass <paramref name="pki"/>, <paramref name="store"/> and <paramref name="adminToken"/> of a stopped one to restart it over the same data and identities.</summary>
    public static async Task<TestApiServerHost> StartAsync(TestApiServerOptions options, TestPki? pki = null, ObjectStore? store = null, string? adminToken = null, TokenIssuer? issuer = null)
    {
        pki ??= TestPki.Create();
        var seed = store is null;
        store ??= new ObjectStore(options.HistoryLimit, options.WatcherCapacity);
        adminToken ??= Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, options.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
            {
                ServerCertificate = pki.ServerCertificate,
                ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                // Verified per request against the server CA, so a foreign certificate is a 401 as on the real server.
                ClientCertificateValidation = (_, _, _) => true,
            }));
            k.Limits.MaxRequestBodySize = 3 * 1024 * 1024 + 1;
        });
        var tokens = new TokenHandler(store, issuer ??= new TokenIssuer(), options.Time);
        var authenticator = new Authenticator(pki, adminToken, tokens, new BootstrapTokens(store, options.Time));
        // Open watches end when the server stops (as the real server ends them), so a restart does not wait on them.
        var stopping = new CancellationTokenSource();
        var authorizer = new Authorizer(store);
        var writes = new WriteHandler(store, options.Time, new ServiceAllocator(store), new DisruptionBudgets(store));
        var kubeletClient = pki.IssueClient(KubeletProxy.ClientUser);
        var router = new ApiRouter(authenticator, authorizer, new ReadHandler(store, options.Time, options.BookmarkInterval, stopping.Token), writes, tokens,
            new AccessReviewHandler(authorizer), new KubeletProxy(store, kubeletClient, options.KubeletDialAddress));
        var app = builder.Build();
        app.Run(router.HandleAsync);
        if (seed)
        {
            Seed(store, options.Time);
            SeedKubernetesService(store, options.Time);
            SeedBootstrapTokens(store, options);
        }
        await app.StartAsync();
        var controllers = Task.WhenAll(
            options.RunControllers
                ? Task.WhenAll(
                    Task.Run(() => new Scheduler(store, options.Time).RunAsync(stopping.Token)),
                    Task.Run(() => new EndpointSliceController(store, options.Time).RunAsync(stopping.Token)),
                    Task.Run(() => new NodeLifecycleController(store, options.Time, options.NodeMonitorGracePeriod).RunAsync(stopping.Token)),
                    Task.Run(() => new CsrController(store, pki, options.Time).RunAsync(stopping.Token)))
                : Task.CompletedTask,
            options.RunControllers || options.RunNamespaceController
                ? Task.Run(() => new NamespaceController(store, writes).RunAsync(stopping.Token))
                : Task.CompletedTask);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;
        var url = new Uri($"https://127.0.0.1:{port}");
        var host = new TestApiServerHost(app, router, stopping, controllers, options, pki, store, adminToken, url, issuer);
        host.WriteKubeconfigs();
        return host;
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        await _controllers;
        Store.CloseAllWatches();
        await _app.StopAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private static void Seed(ObjectStore store, TimeProvider time)
    {
        var namespaces = ResourceCatalog.Get("namespaces");
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            store.Write("namespaces", "", ns, (_, _) =>
            {
                var obj = new JsonObject { ["kind"] = "Namespace", ["apiVersion"] = "v1", ["metadata"] = new JsonObject { ["name"] = ns } };
                ObjectRules.PrepareForCreate(namespaces, obj, time);
                return new StoreChange.Put(obj);
            });
        }
    }

    private static void SeedKubernetesService(ObjectStore store, TimeProvider time)
    {
        store.Write("services", "default", "kubernetes", (_, _) =>
        {
            var svc = new JsonObject
            {
                ["kind"] = "Service",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["name"] = "kubernetes", ["namespace"] = "default", ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" } },
                ["spec"] = new JsonObject
                {
                    ["type"] = "ClusterIP",
                    ["clusterIP"] = "10.96.0.1",
                    ["clusterIPs"] = new JsonArray("10.96.0.1"),
                    ["ipFamilies"] = new JsonArray("IPv4"),
                    ["ipFamilyPolicy"] = "SingleStack",
                    ["internalTrafficPolicy"] = "Cluster",
                    ["sessionAffinity"] = "None",
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = 6443 }),
                },
            };
            ObjectRules.PrepareForCreate(ResourceCatalog.Get("services"), svc, time);
            return new StoreChange.Put(svc);
        });
    }

    private static void SeedBootstrapTokens(ObjectStore store, TestApiServerOptions options)
    {
        foreach (var token in options.BootstrapTokens)
        {
            var secret = BootstrapTokens.SecretFor(token);
            store.Write("secrets", "kube-system", secret["metadata"]!["name"]!.ToString(), (_, _) =>
            {
                ObjectRules.PrepareForCreate(ResourceCatalog.Get("secrets"), secret, options.Time);
                return new StoreChange.Put(secret);
            });
        }
    }

    /// <summary>The kubeconfig of a bootstrap token (<c>bootstrap.kubeconfig</c> is the first one's).</summary>
    public string BootstrapKubeconfig(string? tokenId = null) =>
        Path.Combine(Options.Directory, tokenId is null ? "bootstrap.kubeconfig" : $"bootstrap-{tokenId}.kubeconfig");

    private void WriteKubeconfigs()
    {
        Directory.CreateDirectory(Options.Directory);
        File.WriteAllText(Path.Combine(Options.Directory, "ca.crt"), Pki.CaPem);
        File.WriteAllText(Path.Combine(Options.Directory, "admin.token"), AdminToken + "\n");
        WriteKubeconfig(AdminKubeconfig, "admin", $"    token: {AdminToken}\n");
        foreach (var node in Options.Nodes)
        {
            using var cert = Pki.IssueClient("system:node:" + node, "system:nodes");
            var user = $"    client-certificate-data: {B64(cert.ExportCertificatePem())}\n    client-key-data: {B64(TestPki.KeyPem(cert))}\n";
            WriteKubeconfig(NodeKubeconfig(node), "system:node:" + node, user);
        }
        using (var proxier = Pki.IssueClient(Authorizer.KubeProxyUser))
        {
            WriteKubeconfig(KubeProxyKubeconfig, Authorizer.KubeProxyUser,
                $"    client-certificate-data: {B64(proxier.ExportCertificatePem())}\n    client-key-data: {B64(TestPki.KeyPem(proxier))}\n");
        }
        for (var i = 0; i < Options.BootstrapTokens.Count; i++)
        {
            var token = Options.BootstrapTokens[i];
            var id = token.Split('.')[0];
            WriteKubeconfig(BootstrapKubeconfig(id), "system:bootstrap:" + id, $"    token: {token}\n");
            if (i == 0)
            {
                WriteKubeconfig(BootstrapKubeconfig(), "system:bootstrap:" + id, $"    token: {token}\n");
            }
        }
    }

    private void WriteKubeconfig(string path, string userName, string userBody)
    {
        var text = $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: {Url.ToString().TrimEnd('/')}
                certificate-authority-data: {B64(Pki.CaPem)}
            users:
            - name: {userName}
              user:
            {userBody}contexts:
            - name: test
              context:
                cluster: test
                user: {userName}
            current-context: test

            """;
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private static string B64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));
}
