using k8s;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// The test API server (with its scheduler, EndpointSlice and node lifecycle controllers) for agents to join as
/// node <c>node1</c>, an admin connection to watch it, and the real kubectl. Restartable on the same port over the
/// same store, as a real API server restarts over etcd. Everything is removed at the end.
/// </summary>
public sealed class ApiCluster : IAsyncDisposable
{
    public const string NodeName = "node1";

    private readonly TempDir _dir;

    private ApiCluster(TempDir dir, TestApiServerHost server)
    {
        _dir = dir;
        Server = server;
        Admin = new KubeApiConnection(KubeConfigLoader.LoadFile(server.AdminKubeconfig));
    }

    public TestApiServerHost Server { get; private set; }

    public KubeApiConnection Admin { get; }

    /// <summary>The node credential (client certificate <c>system:node:node1</c>) for <c>--kubeconfig</c>.</summary>
    public string NodeKubeconfig => Server.NodeKubeconfig(NodeName);

    public static async Task<ApiCluster> StartAsync()
    {
        var dir = new TempDir("nodeagent-cluster");
        var server = await TestApiServerHost.StartAsync(new TestApiServerOptions
        {
            Directory = dir.Path,
            Nodes = [NodeName],
            Port = LoopbackHttpServer.FreePort(),
            // The agents listen on loopback while their Node reports a documentation address.
            KubeletDialAddress = "127.0.0.1",
        });
        return new ApiCluster(dir, server);
    }

    /// <summary>The agent flags that join this cluster. The agent runs in the host's network namespace in these
    /// tests, so its service proxy is off (<see cref="ProxiedAgentFlags"/> for an agent in a namespace of the test's).</summary>
    public string[] AgentFlags(params string[] extra) => [.. ProxiedAgentFlags(extra), "--disable-kube-proxy"];

    /// <summary>The agent flags that join this cluster, the service proxy on.</summary>
    public string[] ProxiedAgentFlags(params string[] extra) => ["--kubeconfig", NodeKubeconfig, "--node-status-update-frequency", "1s", "--client-ca-file", Path.Combine(Server.Options.Directory, "ca.crt"), .. extra];

    public Task<Kubectl.Result> KubectlAsync(string args, string? stdin = null) => Kubectl.RunAsync(Server.AdminKubeconfig, args, stdin, timeoutSeconds: 120);

    /// <summary>kubectl that must succeed; its standard output.</summary>
    public async Task<string> KubectlOkAsync(string args, string? stdin = null)
    {
        var r = await KubectlAsync(args, stdin);
        Assert.True(r.ExitCode == 0, $"kubectl {args}: {r}");
        return r.Stdout;
    }

    /// <summary>Watches <paramref name="resource"/> until <paramref name="pick"/> finds something; that.</summary>
    public async Task<T> WaitAsync<T, TList>(ApiResource<T, TList> resource, string? ns, Func<InformerCache<T>, T?> pick, string what, int timeoutSeconds = 90)
        where T : class, IKubernetesObject<V1ObjectMeta>
        where TList : class, IItems<T>, IMetadata<V1ListMeta>
    {
        await using var informer = new Informer<T, TList>(new ResourceClient<T, TList>(Admin, resource), new InformerOptions { Namespace = ns });
        informer.Start();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            await informer.WaitForAsync(cache => pick(cache) is not null, cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{what}: not seen within {timeoutSeconds} s");
        }

        return pick(informer.Cache)!;
    }

    public Task<V1Pod> WaitPodAsync(string name, Func<V1Pod, bool> condition, string what, int timeoutSeconds = 90) =>
        WaitAsync(KubeResources.Pods, "default", c => c.Get("default", name) is { } p && condition(p) ? p : null, $"pod {name} {what}", timeoutSeconds);

    public Task WaitPodGoneAsync(string name, int timeoutSeconds = 90) =>
        WaitAsync(KubeResources.Pods, "default", c => c.Get("default", name) is null ? new V1Pod() : null, $"pod {name} gone", timeoutSeconds);

    public Task<V1Node> WaitNodeReadyAsync(int timeoutSeconds = 90) =>
        WaitAsync(KubeResources.Nodes, null, c => c.Get(null, NodeName) is { } n && Ready(n) ? n : null, "node Ready", timeoutSeconds);

    public static bool Ready(V1Node n) => n.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>Stops the API server (watches end, connections are refused) until <see cref="RestartAsync"/>.</summary>
    public Task StopAsync() => Server.StopAsync();

    public async Task RestartAsync()
    {
        var old = Server;
        await old.DisposeAsync();
        Server = await TestApiServerHost.StartAsync(old.Options, old.Pki, old.Store, old.AdminToken, old.Issuer);
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}
