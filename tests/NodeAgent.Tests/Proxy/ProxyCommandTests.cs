using System.Diagnostics;
using System.Net.Http;
using System.Text.Json;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Proxy.Userspace;
using NodeAgent.TestApiServer;
using NodeAgent.Tests.Support;
using NodeAgent.Tests.Kubelet;
using static NodeAgent.Tests.Proxy.ProxyObjects;

namespace NodeAgent.Tests.Proxy;

/// <summary>
/// <c>nodeagent proxy</c> end to end, with its rules in a network namespace the test creates: the proxy host against
/// the test API server, and <c>--cleanup</c> leaving iptables-save as it was before the proxy ran.
/// </summary>
public sealed class ProxyCommandTests : IDisposable
{
    private const string Baseline = "*filter\n:USER-CHAIN - [0:0]\n-A INPUT -p tcp --dport 22 -j USER-CHAIN\n-A USER-CHAIN -j ACCEPT\nCOMMIT\n" +
        "*nat\n:USER-NAT - [0:0]\n-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE\n-A PREROUTING -j USER-NAT\nCOMMIT\n";

    private readonly ProxyNetns _ns = new();

    public void Dispose() => _ns.Dispose();

    private Task<string> SaveAsync() => _ns.StableSaveAsync();

    [PrivilegedFact]
    public async Task CleanupLeavesIptablesSaveAsItWasBeforeTheProxyRan()
    {
        await _ns.Iptables.RestoreAsync(Baseline, CancellationToken.None);
        var before = await SaveAsync();

        var web = Service("ns1", "web", "172.30.0.41", Port("http", 80, nodePort: 30080));
        web.Spec.Type = "NodePort";
        web.Spec.SessionAffinity = "ClientIP";
        var states = new ProxyStates().Add(web).Add(Slice("ns1", "web", "web-a", [SlicePort("http", 8080)], Ep("10.180.0.1"), Ep("10.180.0.2")))
            .Add(Service("ns1", "empty", "172.30.0.44", Port("http", 80)));
        var proxier = new IptablesProxier(_ns.Iptables, new IptablesSettings(), new ListLogger<ProxyCommandTests>());
        await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        Assert.Contains("KUBE-SVC-", await SaveAsync());

        var output = await RunCliAsync("proxy", "--cleanup");

        Assert.Contains("removed the proxy's iptables rules and chains", output);
        Assert.Equal(before, await SaveAsync());
        // A second cleanup finds nothing and changes nothing.
        Assert.Contains("no proxy iptables rules to remove", await RunCliAsync("proxy", "--cleanup"));
        Assert.Equal(before, await SaveAsync());
    }

    [PrivilegedFact]
    public async Task CleanupAlsoRemovesTheUserspaceModesRulesAndLeavesIptablesSaveAsItWas()
    {
        await _ns.Iptables.RestoreAsync(Baseline, CancellationToken.None);
        var before = await SaveAsync();

        var web = Service("ns1", "web", "172.30.0.41", Port("http", 80, nodePort: 30080));
        web.Spec.Type = "NodePort";
        var states = new ProxyStates().Add(web).Add(Slice("ns1", "web", "web-a", [SlicePort("http", 8080)], Ep("10.180.0.1")))
            .Add(Service("ns1", "empty", "172.30.0.44", Port("dns", 53, "UDP")));
        await using (var proxier = new UserspaceProxier(_ns.Iptables, new UserspaceSettings { NodeNetns = _ns.Path }, new ListLogger<ProxyCommandTests>()))
        {
            await proxier.SyncAsync(states.Next(), full: true, CancellationToken.None);
        }
        var programmed = await SaveAsync();
        Assert.Contains("-A KUBE-PORTALS-CONTAINER", programmed);
        Assert.Contains("-A KUBE-NODEPORT-HOST", programmed);
        Assert.Contains("-A KUBE-PORTALS-REJECT", programmed);

        var output = await RunCliAsync("proxy", "--cleanup");

        Assert.Contains("removed the proxy's iptables rules and chains", output);
        Assert.Equal(before, await SaveAsync());
    }

    [PrivilegedFact]
    public async Task TheProxyHostProgramsServicesFromTheApiServerAndAnswersHealthz()
    {
        await using var server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = ApiDir(), Nodes = ["n1"], RunControllers = false });
        var svc = await CreateWebAsync(server);

        var warnings = new List<string>();
        var config = ProxyConfigResolver.Resolve(new Dictionary<string, string>
        {
            ["kubeconfig"] = server.AdminKubeconfig,
            ["hostname-override"] = "n1",
            ["healthz-bind-address"] = "127.0.0.1:0",
            ["metrics-bind-address"] = "127.0.0.1:0",
            ["iptables-min-sync-period"] = "0s",
        }, warnings);
        using var loggers = LoggerFactory.Create(_ => { });
        var host = new ProxyHost(config, loggers) { NodeNetns = _ns.Path };
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        try
        {
            await SyncedAsync(host, run);

            var chain = ChainNames.Service("default/web:http", L4Protocol.Tcp);
            var save = await SaveAsync();
            Assert.True(save.Contains($"-A KUBE-SERVICES -d {svc.Spec.ClusterIP}/32 -p tcp -m comment --comment \"default/web:http cluster IP\" -m tcp --dport 80 -j {chain}"), save);
            Assert.Contains("--to-destination 10.180.0.7:8080", save);

            var urls = await host.Urls;
            using var http = new HttpClient();
            var healthz = await http.GetAsync(urls[0] + "/healthz");
            Assert.Equal(200, (int)healthz.StatusCode);
            Assert.Equal("application/json", healthz.Content.Headers.ContentType?.MediaType);
            using (var json = JsonDocument.Parse(await healthz.Content.ReadAsStringAsync()))
            {
                Assert.True(json.RootElement.GetProperty("nodeEligible").GetBoolean());
                Assert.True(json.RootElement.GetProperty("healthy").GetBoolean());
            }
            Assert.Equal(200, (int)(await http.GetAsync(urls[0] + "/livez")).StatusCode);
            Assert.Equal("iptables", await http.GetStringAsync(urls[1] + "/proxyMode"));
            var explained = await host.ExplainAsync("default/web", CancellationToken.None);
            Assert.Contains("10.180.0.7:8080 ready, on this node", explained);
            Assert.Contains($"-A KUBE-SVC-", explained);

            var exposition = await http.GetStringAsync(urls[1] + "/metrics");
            Assert.Contains("kubeproxy_sync_full_proxy_rules_duration_seconds_count", exposition);
            Assert.Matches(@"kubeproxy_sync_proxy_rules_iptables_total\{table=""nat""\} [1-9]", exposition);
        }
        finally
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    [PrivilegedFact]
    public async Task TheProxyHostInUserspaceModeListensForServicesFromTheApiServer()
    {
        await using var server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = ApiDir(), Nodes = ["n1"], RunControllers = false });
        var svc = await CreateWebAsync(server);
        var config = ProxyConfigResolver.Resolve(new Dictionary<string, string>
        {
            ["kubeconfig"] = server.AdminKubeconfig,
            ["proxy-mode"] = "userspace",
            ["hostname-override"] = "n1",
            ["healthz-bind-address"] = "127.0.0.1:0",
            ["metrics-bind-address"] = "127.0.0.1:0",
            ["iptables-min-sync-period"] = "0s",
        }, []);
        using var loggers = LoggerFactory.Create(_ => { });
        var host = new ProxyHost(config, loggers) { NodeNetns = _ns.Path };
        using var stop = new CancellationTokenSource();
        var run = host.RunAsync(stop.Token);
        try
        {
            await SyncedAsync(host, run);

            // The namespace has no default route: the node's own traffic is redirected too.
            var save = await SaveAsync();
            Assert.Matches($@"-A KUBE-PORTALS-CONTAINER -d {svc.Spec.ClusterIP}/32 -p tcp -m comment --comment ""default/web:http"" -m tcp --dport 80 -j REDIRECT --to-ports \d+", save);
            Assert.Matches($@"-A KUBE-PORTALS-HOST -d {svc.Spec.ClusterIP}/32 -p tcp -m comment --comment ""default/web:http"" -m tcp --dport 80 -j REDIRECT --to-ports \d+", save);
            Assert.DoesNotContain("KUBE-SVC-", save);
            using var http = new HttpClient();
            Assert.Equal("userspace", await http.GetStringAsync((await host.Urls)[1] + "/proxyMode"));
        }
        finally
        {
            await stop.CancelAsync();
            await run.ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }

    private string ApiDir()
    {
        var dir = _ns.Combine("api");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Node n1, service default/web (port http 80) and its EndpointSlice (10.180.0.7:8080 on n1); returns the
    /// service as the API server made it (with its cluster IP).</summary>
    private static async Task<V1Service> CreateWebAsync(TestApiServerHost server)
    {
        using var admin = new KubeApiConnection(KubeConfigLoader.LoadFile(server.AdminKubeconfig) with { Qps = 0 });
        await new ResourceClient<V1Node, V1NodeList>(admin, KubeResources.Nodes).CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "n1" } });
        var svc = await new ResourceClient<V1Service, V1ServiceList>(admin, KubeResources.Services).CreateAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default" },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80 }] },
        });
        await new ResourceClient<V1EndpointSlice, V1EndpointSliceList>(admin, KubeResources.EndpointSlices)
            .CreateAsync(Slice("default", "web", "web-1", [SlicePort("http", 8080)], Ep("10.180.0.7", node: "n1")));
        return svc;
    }

    /// <summary>Until the host's proxy has synced the web service's endpoint (or the host failed).</summary>
    private static async Task SyncedAsync(ProxyHost host, Task run)
    {
        var proxy = await host.Proxy.WaitAsync(TimeSpan.FromSeconds(60));
        var synced = proxy.WaitForStateAsync(s => s.Endpoints.Values.Any(e => e.Any(x => x.ToString() == "10.180.0.7:8080")));
        await Task.WhenAny(synced, run).Unwrap().WaitAsync(TimeSpan.FromSeconds(60));
    }

    private async Task<string> RunCliAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("nsenter") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--net={_ns.Path}", "--", Path.Combine(AppContext.BaseDirectory, "nodeagent") }.Concat(args))
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(p.ExitCode == 0, $"nodeagent {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}");
        return await stdout;
    }
}
