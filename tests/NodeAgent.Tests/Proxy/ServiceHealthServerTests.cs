using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Proxy;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

public class ServiceHealthServerTests
{
    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private static V1Service LocalLb(int healthPort)
    {
        var svc = Service("ns1", "lb", "172.30.0.50", Port("http", 80, nodePort: 30090));
        svc.Spec.Type = "LoadBalancer";
        svc.Spec.ExternalTrafficPolicy = "Local";
        svc.Spec.HealthCheckNodePort = healthPort;
        return svc;
    }

    [Fact]
    public async Task TheHealthCheckNodePortAnswersAsKubeProxysWithTheLocalEndpointCount()
    {
        var port = FreePort();
        using var loggers = LoggerFactory.Create(_ => { });
        await using var server = new ServiceHealthServer(IPAddress.Loopback, new ProxyHealth(TimeSpan.FromSeconds(60)), loggers);
        var states = new ProxyStates("node-a").Add(LocalLb(port))
            .Add(Slice("ns1", "lb", "lb-a", [SlicePort("http", 8080)], Ep("10.1.0.1", node: "node-a"), Ep("10.1.0.2", node: "node-b")));
        await server.SyncAsync(states.Next(), CancellationToken.None);
        using var http = new HttpClient();

        var ok = await http.GetAsync($"http://127.0.0.1:{port}/any/path");
        Assert.Equal(200, (int)ok.StatusCode);
        Assert.Equal("1", ok.Headers.GetValues("X-Load-Balancing-Endpoint-Weight").Single());
        Assert.Equal("{\n\t\"service\": {\n\t\t\"namespace\": \"ns1\",\n\t\t\"name\": \"lb\"\n\t},\n\t\"localEndpoints\": 1,\n\t\"serviceProxyHealthy\": true\n}",
            await ok.Content.ReadAsStringAsync());

        // No ready endpoint on this node: the load balancer must skip it.
        states.Add(Slice("ns1", "lb", "lb-a", [SlicePort("http", 8080)], Ep("10.1.0.1", ready: false, node: "node-a"), Ep("10.1.0.2", node: "node-b")));
        await server.SyncAsync(states.Next(), CancellationToken.None);
        var unavailable = await http.GetAsync($"http://127.0.0.1:{port}/");
        Assert.Equal(503, (int)unavailable.StatusCode);
        Assert.Contains("\"localEndpoints\": 0", await unavailable.Content.ReadAsStringAsync());

        // The service goes: so does its listener.
        states.Remove(LocalLb(port));
        await server.SyncAsync(states.Next(), CancellationToken.None);
        Assert.Empty(server.Ports);
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{port}/"));
    }
}
