using System.Diagnostics;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.Http;

/// <summary>client-go's request discipline against the test server: rate limit, Retry-After, connection retries.</summary>
public sealed class KubeApiConnectionTests
{
    [Fact]
    public async Task TheTokenBucketLetsABurstThroughThenPacesAtQps()
    {
        var limiter = new ClientRateLimiter(qps: 20, burst: 5);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < 5; i++)
        {
            await limiter.WaitAsync(CancellationToken.None);
        }
        var burst = clock.Elapsed;
        for (var i = 0; i < 10; i++)
        {
            await limiter.WaitAsync(CancellationToken.None);
        }
        var paced = clock.Elapsed;
        Assert.True(burst < TimeSpan.FromMilliseconds(100), $"the burst of 5 took {burst}");
        // 10 more tokens at 20/s need at least 0.5 s (less the little refilled during the burst).
        Assert.True(paced >= TimeSpan.FromMilliseconds(450), $"15 requests at qps 20 burst 5 took only {paced}");
        Assert.True(paced < TimeSpan.FromSeconds(2), $"pacing was far too slow: {paced}");
    }

    [Fact]
    public void ABurstBelowOneIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClientRateLimiter(10, 0));

    [Fact]
    public async Task TooManyRequestsIsRetriedAfterRetryAfter()
    {
        var (server, dir) = await ApiServerFixture.StartPrivateAsync();
        try
        {
            var logger = new ListLogger();
            using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(server.AdminKubeconfig), logger);
            var namespaces = new ResourceClient<V1Namespace, V1NamespaceList>(connection, KubeResources.Namespaces);
            server.Throttle(2);
            var clock = Stopwatch.StartNew();
            var list = await namespaces.ListAsync(null);
            Assert.Equal(4, list.Items.Count);
            Assert.Equal(2, logger.Messages.Count(m => m.Contains("429 with Retry-After")));
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"Retry-After: 1 twice was not waited for ({clock.Elapsed})");
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task AReadIsRetriedWhileTheServerIsDown()
    {
        var (server, dir) = await ApiServerFixture.StartPrivateAsync();
        try
        {
            var logger = new ListLogger();
            using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(server.AdminKubeconfig), logger);
            var namespaces = new ResourceClient<V1Namespace, V1NamespaceList>(connection, KubeResources.Namespaces);
            await server.DisposeAsync();
            var failed = logger.WaitForAsync(m => m.Contains("connection failed"));
            var list = namespaces.ListAsync(null);
            await failed.WaitAsync(TimeSpan.FromSeconds(20));
            // Same port, same store, same identities: as a real API server restarting.
            server = await TestApiServerHost.StartAsync(server.Options with { Port = server.Url.Port }, server.Pki, server.Store, server.AdminToken);
            Assert.Equal(4, (await list.WaitAsync(TimeSpan.FromSeconds(30))).Items.Count);
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, true);
        }
    }
}
