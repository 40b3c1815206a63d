using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Reporting;

namespace NodeAgent.Tests.Kubelet.Reporting;

/// <summary>The parts of <c>/metrics</c> that need no pod: the API client's requests over a real HTTP server, node
/// start-up gauges, image size labels, and the start annotation read back as hostile input.</summary>
public sealed class KubeletMetricsTests
{
    [Fact]
    public async Task Rest_client_metrics_count_every_request_with_clientgos_labels()
    {
        await using var server = new LoopbackHttpServer();
        var metrics = new KubeletMetrics(Prometheus.Metrics.NewCustomRegistry(), "n1", TimeProvider.System);
        using var connection = new KubeApiConnection(new KubeClientConfig { Server = new Uri($"http://127.0.0.1:{server.Port}"), Description = "test" })
        {
            Metrics = metrics.RestClient,
        };
        server.Response = (200, "{}", null);
        (await connection.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1", null, null, streamResponse: false, CancellationToken.None)).Dispose();
        (await connection.SendAsync(HttpMethod.Get, "/api/v1/nodes/n1", null, null, streamResponse: false, CancellationToken.None)).Dispose();
        server.Response = (404, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}""", null);
        var missing = await Assert.ThrowsAsync<ApiException>(() => connection.SendAsync(HttpMethod.Patch, "/api/v1/nodes/n2", "{}"u8.ToArray(),
            "application/merge-patch+json", streamResponse: false, CancellationToken.None));
        Assert.True(missing.IsNotFound);

        var text = await ScrapeAsync(metrics);
        var host = $"127.0.0.1:{server.Port}";
        Assert.Equal(2, MetricsNode.Sample(text, $"rest_client_requests_total{{code=\"200\",method=\"GET\",host=\"{host}\"}}"));
        Assert.Equal(1, MetricsNode.Sample(text, $"rest_client_requests_total{{code=\"404\",method=\"PATCH\",host=\"{host}\"}}"));
        Assert.Equal(2, MetricsNode.Sample(text, $"rest_client_request_duration_seconds_count{{verb=\"GET\",host=\"{host}\"}}"));
        Assert.Equal(1, MetricsNode.Sample(text, $"rest_client_request_duration_seconds_count{{verb=\"PATCH\",host=\"{host}\"}}"));
        Assert.Contains("rest_client_request_duration_seconds_bucket{verb=\"GET\",host=\"" + host + "\",le=\"0.005\"}", text);
        Assert.Contains("# HELP rest_client_requests_total [ALPHA] Number of HTTP requests, partitioned by status code, method, and host.\n", text);
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_node_name{node=\"n1\"}"));
    }

    [Fact]
    public async Task A_request_that_gets_no_response_is_counted_as_an_error()
    {
        var port = LoopbackHttpServer.FreePort();
        var metrics = new KubeletMetrics(Prometheus.Metrics.NewCustomRegistry(), "n1", TimeProvider.System);
        var first = new FirstAttempt(metrics.RestClient);
        using var connection = new KubeApiConnection(new KubeClientConfig { Server = new Uri($"http://127.0.0.1:{port}"), Description = "test" })
        {
            Metrics = first,
        };
        using var cancel = new CancellationTokenSource();
        // Nothing listens: refused connections are retried with backoff; the first failed attempt is what counts here.
        var send = connection.SendAsync(HttpMethod.Get, "/api/v1/pods", null, null, streamResponse: false, cancel.Token);
        await first.Recorded.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => send);

        var text = await ScrapeAsync(metrics);
        Assert.True(MetricsNode.Sample(text, $"rest_client_requests_total{{code=\"<error>\",method=\"GET\",host=\"127.0.0.1:{port}\"}}") >= 1);
        Assert.True(MetricsNode.Sample(text, $"rest_client_request_duration_seconds_count{{verb=\"GET\",host=\"127.0.0.1:{port}\"}}") >= 1);
    }

    [Fact]
    public async Task Node_startup_gauges_are_set_once_when_a_newly_registered_node_turns_ready()
    {
        var clock = new FixedTimeProvider(DateTimeOffset.Parse("2026-12-01T10:00:00Z"));
        var metrics = new KubeletMetrics(Prometheus.Metrics.NewCustomRegistry(), "n1", clock, uptime: TimeSpan.FromSeconds(30));
        clock.Now += TimeSpan.FromSeconds(2);
        metrics.Startup.RegistrationAttempted();
        clock.Now += TimeSpan.FromSeconds(1);
        metrics.Startup.NodeReady(); // before registration: nothing yet
        Assert.Equal(0, MetricsNode.Sample(await ScrapeAsync(metrics), "kubelet_node_startup_duration_seconds"));
        metrics.Startup.RegisteredNewNode();
        clock.Now += TimeSpan.FromSeconds(4);
        metrics.Startup.NodeReady();
        clock.Now += TimeSpan.FromSeconds(100);
        metrics.Startup.NodeReady(); // a later Ready changes nothing

        var text = await ScrapeAsync(metrics);
        Assert.Equal(30, MetricsNode.Sample(text, "kubelet_node_startup_pre_kubelet_duration_seconds"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_node_startup_pre_registration_duration_seconds"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_node_startup_registration_duration_seconds"));
        Assert.Equal(4, MetricsNode.Sample(text, "kubelet_node_startup_post_registration_duration_seconds"));
        Assert.Equal(37, MetricsNode.Sample(text, "kubelet_node_startup_duration_seconds"));
    }

    [Theory]
    [InlineData(0, "0-10MB")]
    [InlineData(10L * 1024 * 1024 - 1, "0-10MB")]
    [InlineData(10L * 1024 * 1024, "10MB-100MB")]
    [InlineData(700L * 1024 * 1024, "500MB-1GB")]
    [InlineData(15L * 1024 * 1024 * 1024, "10GB-20GB")]
    [InlineData(200L * 1024 * 1024 * 1024, "GT100GB")]
    [InlineData(-5, "0-10MB")]
    public void Image_sizes_get_kubelets_bucket_labels(long size, string label) => Assert.Equal(label, KubeletPodMetrics.ImageSizeLabel(size));

    [Fact]
    public void The_start_annotation_round_trips_and_bad_pairs_are_skipped()
    {
        var text = PodStartPhases.Format([KeyValuePair.Create("admission", TimeSpan.FromMilliseconds(1.5)), KeyValuePair.Create("sandbox", TimeSpan.FromSeconds(2))]);
        Assert.Equal("admission=0.001500,sandbox=2.000000", text);
        Assert.Equal(TimeSpan.FromSeconds(2), PodStartPhases.Parse(text)["sandbox"]);

        var hostile = PodStartPhases.Parse("admission=NaN,sandbox=-1,image_pull=1e400,bogus=1,=2,first_ready,container_start=0.25,container_create=Infinity");
        Assert.Equal(["container_start"], hostile.Keys);
        Assert.Equal(TimeSpan.FromMilliseconds(250), hostile["container_start"]);
        Assert.Empty(PodStartPhases.Parse(null));
        Assert.Equal("850µs", PodStartPhases.Human(TimeSpan.FromMicroseconds(850)));
        Assert.Equal("12.3ms", PodStartPhases.Human(TimeSpan.FromMilliseconds(12.3)));
        Assert.Equal("1.204s", PodStartPhases.Human(TimeSpan.FromMilliseconds(1204)));
        Assert.Equal("2m5s", PodStartPhases.Human(TimeSpan.FromSeconds(125)));
    }

    /// <summary>The real metrics, and a signal once the first attempt has been recorded in them.</summary>
    private sealed class FirstAttempt(IRequestMetrics inner) : IRequestMetrics
    {
        public TaskCompletionSource Recorded { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void RequestCompleted(string method, string host, string code, TimeSpan latency)
        {
            inner.RequestCompleted(method, host, code, latency);
            Recorded.TrySetResult();
        }
    }

    private static Task<string> ScrapeAsync(KubeletMetrics metrics) => MetricsNode.ScrapeAsync(metrics);
}
