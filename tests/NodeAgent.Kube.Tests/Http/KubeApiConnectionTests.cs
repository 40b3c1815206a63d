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
        // On a clock that stands still: what each request waits is the bucket's arithmetic, not the machine's load.
        var time = new FrozenTime();
        var limiter = new ClientRateLimiter(qps: 20, burst: 5, time);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.WaitAsync(CancellationToken.None).IsCompletedSuccessfully, $"request {i + 1} of the burst waited");
        }

        Assert.Empty(time.Delays);
        for (var i = 0; i < 10; i++)
        {
            await limiter.WaitAsync(CancellationToken.None);
        }

        // Each waiter reserves the next token: 1/20 s apart, in order.
        Assert.Equal(Enumerable.Range(1, 10).Select(k => TimeSpan.FromSeconds(k / 20.0)), time.Delays);

        // After a long quiet the bucket holds the burst again, never more.
        time.Advance(TimeSpan.FromSeconds(60));
        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.WaitAsync(CancellationToken.None).IsCompletedSuccessfully, $"request {i + 1} of the second burst waited");
        }

        await limiter.WaitAsync(CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(1 / 20.0), time.Delays[^1]);
        Assert.Equal(11, time.Delays.Count);
    }

    /// <summary>A clock moved by hand; its timers record their due time and fire at once (on the thread pool).</summary>
    private sealed class FrozenTime : TimeProvider
    {
        private long _ticks;

        public List<TimeSpan> Delays { get; } = [];

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (Delays)
            {
                Delays.Add(dueTime);
            }

            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new FiredTimer();
        }

        private sealed class FiredTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
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
