using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodeAgent.Kube.Api;
using NodeAgent.Server.Auth;
using NodeAgent.TestApiServer.Api;
using NodeAgent.Tests.Logs;

namespace NodeAgent.Tests.Server;

/// <summary>
/// The authenticated kubelet API (kubelet's pkg/kubelet/server auth filter): kubelet's path → subresource and method
/// → verb mapping, 401/403 bodies as kubelet writes them, client-certificate and TokenReview authentication and
/// SubjectAccessReview authorization against the real (test) API server, and the review caches with kubelet's TTLs.
/// </summary>
public sealed class KubeletApiServerTests
{
    [Theory]
    [InlineData("GET", "/stats/summary", "get", "stats")]
    [InlineData("GET", "/stats", "get", "stats")]
    [InlineData("GET", "/metrics", "get", "metrics")]
    [InlineData("GET", "/metrics/cadvisor", "get", "metrics")]
    [InlineData("GET", "/metricsfoo", "get", "proxy")]
    [InlineData("GET", "/logs/messages", "get", "log")]
    [InlineData("POST", "/checkpoint/ns/pod/c", "create", "checkpoint")]
    [InlineData("GET", "/pods", "get", "pods,proxy")]
    [InlineData("GET", "/runningpods/", "get", "pods,proxy")]
    [InlineData("GET", "/healthz", "get", "healthz,proxy")]
    [InlineData("GET", "/configz", "get", "configz,proxy")]
    [InlineData("GET", "/containerLogs/default/p/c", "get", "proxy")]
    [InlineData("POST", "/exec/default/p/c", "create", "proxy")]
    [InlineData("PUT", "/x", "update", "proxy")]
    [InlineData("PATCH", "/x", "patch", "proxy")]
    [InlineData("DELETE", "/x", "delete", "proxy")]
    [InlineData("HEAD", "/metrics", "", "metrics")]
    [InlineData("OPTIONS", "/", "", "proxy")]
    public void PathsAndMethodsMapAsKubeletMapsThem(string method, string path, string verb, string subresources)
    {
        var accesses = NodeAccess.For(method, path, "node1");
        Assert.Equal(subresources, string.Join(',', accesses.Select(a => a.Subresource)));
        Assert.All(accesses, a => Assert.Equal((verb, "node1", path), (a.Verb, a.NodeName, a.Path)));
    }

    [Fact]
    public async Task WithoutCredentialsEveryPathIs401()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        using var http = s.Client();
        foreach (var path in new[] { "/healthz", "/pods", "/metrics", "/stats/summary", "/containerLogs/default/p/c", "/no-such-path" })
        {
            using var r = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("Unauthorized", await r.Content.ReadAsStringAsync());
        }

        // A certificate of another CA and a token the API server does not know are failures too.
        using var foreign = SelfSignedClient("CN=system:admin, O=system:masters");
        using (var http2 = s.Client(foreign))
        using (var r = await http2.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        using (var http3 = s.Client(token: "not-a-token"))
        using (var r = await http3.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
    }

    [Fact]
    public async Task WrongRightsAre403NamingUserVerbAndSubresource()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        using var nodeCert = s.Api.Pki.IssueClient("system:node:node1", "system:nodes");
        using var http = s.Client(nodeCert);
        using (var r = await http.GetAsync("/metrics"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Equal("Forbidden (user=system:node:node1, verb=get, resource=nodes, subresource=metrics)", await r.Content.ReadAsStringAsync());
        }

        using (var r = await http.GetAsync("/pods"))
        {
            // Tried as nodes/pods, then nodes/proxy: the denial names the last.
            Assert.Equal("Forbidden (user=system:node:node1, verb=get, resource=nodes, subresource=proxy)", await r.Content.ReadAsStringAsync());
        }

        using (var r = await http.DeleteAsync("/containerLogs/default/p/c"))
        {
            Assert.Equal("Forbidden (user=system:node:node1, verb=delete, resource=nodes, subresource=proxy)", await r.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task AdminTokenAndTheApiServersKubeletClientAreServed()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        using var admin = s.Client(token: s.Api.AdminToken);
        Assert.Equal("ok", await admin.GetStringAsync("/healthz"));
        Assert.Contains("nodeagent_test_requests_total 3", await admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Equal("""{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}""", await admin.GetStringAsync("/pods"));
        using (var r = await admin.GetAsync("/no-such-path"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        }

        // As in the API server's union, any authenticator that succeeds decides: a foreign certificate with a good token.
        using (var foreign = SelfSignedClient("CN=someone"))
        using (var both = s.Client(foreign, s.Api.AdminToken))
        {
            Assert.Equal("ok", await both.GetStringAsync("/healthz"));
        }

        using var client = s.Api.Pki.IssueClient(KubeletProxy.ClientUser);
        using var apiserver = s.Client(client);
        Assert.Equal("ok", await apiserver.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task ReviewsAreCachedWithKubeletsTtls()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var reviewer = new CountingReviewer(new ApiReviewer(new ReviewClient(s.NodeConnection)));
        var authorizer = new KubeletAuthorizer(reviewer, TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(30), clock);
        var node = new KubeletUser("system:node:node1", ["system:nodes", "system:authenticated"]);
        var admin = new KubeletUser("admin", ["system:masters", "system:authenticated"]);
        var metrics = NodeAccess.For("GET", "/metrics", "node1")[0];

        Assert.False(await authorizer.AuthorizeAsync(node, metrics, CancellationToken.None));
        Assert.False(await authorizer.AuthorizeAsync(node, metrics, CancellationToken.None));
        Assert.Equal(1, reviewer.AccessReviews);
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(await authorizer.AuthorizeAsync(node, metrics, CancellationToken.None));
        Assert.Equal(1, reviewer.AccessReviews);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await authorizer.AuthorizeAsync(node, metrics, CancellationToken.None));
        Assert.Equal(2, reviewer.AccessReviews);

        Assert.True(await authorizer.AuthorizeAsync(admin, metrics, CancellationToken.None));
        clock.Advance(TimeSpan.FromMinutes(4.9));
        Assert.True(await authorizer.AuthorizeAsync(admin, metrics, CancellationToken.None));
        Assert.Equal(3, reviewer.AccessReviews);
        clock.Advance(TimeSpan.FromMinutes(0.2));
        Assert.True(await authorizer.AuthorizeAsync(admin, metrics, CancellationToken.None));
        Assert.Equal(4, reviewer.AccessReviews);

        // Another subresource or another group set is another question.
        Assert.True(await authorizer.AuthorizeAsync(admin, NodeAccess.For("GET", "/stats", "node1")[0], CancellationToken.None));
        Assert.Equal(5, reviewer.AccessReviews);

        var authenticator = new KubeletAuthenticator(null, reviewer, anonymous: false, TimeSpan.FromMinutes(2), clock);
        var first = await authenticator.AuthenticateAsync(null, "Bearer " + s.Api.AdminToken, CancellationToken.None);
        Assert.Equal("admin", first.User?.Name);
        Assert.Contains("system:masters", first.User!.Groups);
        clock.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal("admin", (await authenticator.AuthenticateAsync(null, "Bearer " + s.Api.AdminToken, CancellationToken.None)).User?.Name);
        Assert.Equal(1, reviewer.TokenReviews);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("admin", (await authenticator.AuthenticateAsync(null, "Bearer " + s.Api.AdminToken, CancellationToken.None)).User?.Name);
        Assert.Equal(2, reviewer.TokenReviews);

        // A token the API server rejects is cached as rejected too; no credential and no anonymous access is a failure.
        Assert.Null((await authenticator.AuthenticateAsync(null, "Bearer bogus", CancellationToken.None)).User);
        Assert.Null((await authenticator.AuthenticateAsync(null, "Bearer bogus", CancellationToken.None)).User);
        Assert.Equal(3, reviewer.TokenReviews);
        Assert.Equal("no credentials", (await authenticator.AuthenticateAsync(null, null, CancellationToken.None)).Error);
        var anonymous = new KubeletAuthenticator(null, reviewer, anonymous: true, TimeSpan.FromMinutes(2), clock);
        Assert.Equal(KubeletUser.Anonymous, (await anonymous.AuthenticateAsync(null, null, CancellationToken.None)).User);
        Assert.Null((await anonymous.AuthenticateAsync(null, "Bearer bogus", CancellationToken.None)).User);
    }

    [Fact]
    public void TheCacheStaysBoundedUnderAFloodOfKeys()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var cache = new ExpiringCache<string, bool>(clock, capacity: 100);
        for (var i = 0; i < 10_000; i++)
        {
            cache.Set($"token-{i}", true, TimeSpan.FromMinutes(2));
        }

        Assert.InRange(cache.Count, 1, 100);
        Assert.True(cache.TryGet("token-9999", out _));
    }

    private static X509Certificate2 SelfSignedClient(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }
}
