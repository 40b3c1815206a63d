using System.Net;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Server;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Server;

/// <summary>The read-only port's /healthz consults the loops' health: ok while they run, 500 naming a stopped one.</summary>
public sealed class ReadOnlyServerHealthTests
{
    [Fact]
    public async Task HealthzFailsNamingTheLoopThatStopped()
    {
        var supervisor = new LoopSupervisor(new ListLogger<LoopSupervisor>(), TimeProvider.System);
        await using var server = new ReadOnlyServer(IPAddress.Loopback, 0, new NoPods(), NullLoggerFactory.Instance, supervisor);
        await server.StartAsync(CancellationToken.None);
        using var http = new HttpClient { BaseAddress = new Uri(server.Urls.Single()) };

        using (var ok = await http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("ok", await ok.Content.ReadAsStringAsync());
        }

        await supervisor.RunAsync("pod dispatcher", _ => throw new InvalidOperationException("secret detail /var/lib/x"), CancellationToken.None);
        using var failed = await http.GetAsync("/healthz");
        var body = await failed.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Contains("[-]pod dispatcher failed: reason withheld", body, StringComparison.Ordinal);
        Assert.EndsWith("healthz check failed\n", body, StringComparison.Ordinal);
        Assert.DoesNotContain("secret detail", body, StringComparison.Ordinal);
    }

    private sealed class NoPods : IPodLister
    {
        public IReadOnlyList<V1Pod> ListPods() => [];
    }
}
