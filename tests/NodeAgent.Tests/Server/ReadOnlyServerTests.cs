using System.Net;
using System.Text.Json;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Server;

namespace NodeAgent.Tests.Server;

[CollectionDefinition(nameof(MemoryMeasured), DisableParallelization = true)]
public sealed class MemoryMeasured;

/// <summary>
/// The read-only API's /pods: streamed pod by pod with bounded concurrency, so a large pod under many concurrent
/// requests costs neither the process's memory nor the answer; one odd pod never fails the list.
/// </summary>
[Collection(nameof(MemoryMeasured))]
public sealed class ReadOnlyServerTests
{
    private sealed class FixedPods(IReadOnlyList<V1Pod> pods) : IPodLister
    {
        public IReadOnlyList<V1Pod> ListPods() => pods;
    }

    private static V1Pod Pod(string name, string? annotation = null, string? resources = null)
    {
        var json = $$$"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}","namespace":"default","uid":"{{{name}}}-uid"},
             "spec":{"containers":[{"name":"c","image":"x","resources":{{{resources ?? "{}"}}}}]},"status":{"phase":"Running"}}
            """;
        var pod = k8s.KubernetesJson.Deserialize<V1Pod>(json);
        if (annotation is not null)
        {
            pod.Metadata.Annotations = new Dictionary<string, string> { ["big"] = annotation };
        }

        return pod;
    }

    private static async Task<(ReadOnlyServer Server, HttpClient Client)> StartAsync(params V1Pod[] pods)
    {
        var server = new ReadOnlyServer(IPAddress.Loopback, 0, new FixedPods(pods), NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);
        var client = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromMinutes(5) };
        return (server, client);
    }

    /// <summary>Status code and body length, reading the body through a small buffer (the client keeps nothing).</summary>
    private static async Task<(HttpStatusCode Status, long Length)> GetAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/pods", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        long length = 0;
        int n;
        while ((n = await body.ReadAsync(buffer)) > 0)
        {
            length += n;
        }

        return (response.StatusCode, length);
    }

    [Fact]
    public async Task AFiveMegabytePodUnderTwoHundredConcurrentRequestsIsServedToAllAndTheMemoryComesBack()
    {
        var (server, client) = await StartAsync(Pod("big", new string('x', 5 * 1024 * 1024)), Pod("small"));
        await using var _ = server;
        using var __ = client;
        var (status, length) = await GetAsync(client);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(length > 5 * 1024 * 1024);
        var baseline = GC.GetTotalMemory(forceFullCollection: true);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => GetAsync(client))));

        Assert.All(results, r => Assert.Equal((HttpStatusCode.OK, length), r));
        var after = GC.GetTotalMemory(forceFullCollection: true);
        // 200 buffered copies of the list would be over 1 GB; streaming keeps a few pods' worth at most.
        Assert.True(after - baseline < 150L * 1024 * 1024, $"managed memory grew by {(after - baseline) / (1024 * 1024)} MiB");
    }

    [Fact]
    public async Task PodsWithANullLimitOrAnOverflowingQuantityDoNotBreakTheList()
    {
        var (server, client) = await StartAsync(
            Pod("a-null-limit", resources: """{"limits":{"cpu":null}}"""),
            Pod("b-huge-limit", resources: """{"limits":{"memory":"1e400"}}"""),
            Pod("c-fine"));
        await using var _ = server;
        using var __ = client;

        using var response = await client.GetAsync("/pods");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("PodList", doc.RootElement.GetProperty("kind").GetString());
        var names = doc.RootElement.GetProperty("items").EnumerateArray().Select(p => p.GetProperty("metadata").GetProperty("name").GetString()).ToList();
        Assert.Equal(["a-null-limit", "b-huge-limit", "c-fine"], names);
        var list = k8s.KubernetesJson.Deserialize<V1PodList>(doc.RootElement.GetRawText());
        Assert.Equal("Running", list.Items[2].Status.Phase);
    }

    [Fact]
    public async Task AnEmptyNodeIsAnEmptyPodList()
    {
        var (server, client) = await StartAsync();
        await using var _ = server;
        using var __ = client;
        var body = await client.GetStringAsync("/pods");
        Assert.Equal("""{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}""", body);
    }
}
