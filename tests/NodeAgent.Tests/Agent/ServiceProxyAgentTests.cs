using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Linux;
using NodeAgent.Network.Netlink;
using NodeAgent.Tests.Network;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #13 end to end, with the proxy inside <c>nodeagent agent</c> (as k3s runs kube-proxy in its agent): the
/// agent joins the test API server from a network namespace the test made (the node, with an outside namespace on
/// a link, as in <see cref="NodeNetns"/>), runs three backend pods on its bridge that answer with their name and the
/// client's address, and programs a NodePort Service over them. Connections to the ClusterIP from the node and from
/// a pod, and to the NodePort from outside, reach every backend, spread evenly; a backend that is deleted gets no
/// more connections; a service whose pods are all gone refuses at once. What kube-proxy does with the same objects.
/// </summary>
[Collection("agent")]
public sealed class ServiceProxyAgentTests : IAsyncLifetime
{
    private const string PodCidr = "10.78.0.0/24";
    private string _mode = "iptables";
    private AgentNode _node = null!;
    private ApiCluster _cluster = null!;
    private TempDir _dir = null!;
    private NodeNetns _netns = null!;
    private NetnsTcpRelay _relay = null!;

    public async Task InitializeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return;
        }
        _node = new AgentNode();
        _cluster = await ApiCluster.StartAsync();
        _dir = new TempDir("nodeagent-proxy-e2e");
        _netns = new NodeNetns(_dir.Path);
        // A node has a default route; without one, a connection from the node to a cluster IP fails at routing,
        // before the proxy's DNAT in OUTPUT.
        RtNetlink.Run(_netns.NodePath, n =>
        {
            n.AddDefaultRoute(n.LinkIndex("uplink0")!.Value, "uplink0", IPAddress.Parse(NodeNetns.OutsideAddress));
            return true;
        });
        _relay = new NetnsTcpRelay(_netns.NodePath, _cluster.Server.Options.Port);
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        _relay?.Dispose();
        // The bridge, the veths, the pod network's and the proxy's rules all live in the node namespace and go with it.
        _netns?.Dispose();
        _dir?.Dispose();
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>A backend: busybox httpd whose CGI answers "POD-NAME CLIENT-IP".</summary>
    private static string Backend(string name) => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
          labels: {app: echo}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: httpd
            image: localhost/busybox:latest
            imagePullPolicy: IfNotPresent
            ports: [{containerPort: 8080}]
            command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho {{name}} $REMOTE_ADDR\\n' > /www/cgi-bin/who && chmod +x /www/cgi-bin/who && exec httpd -f -p 8080 -h /www"]
        ---

        """;

    private const string Service = """
        apiVersion: v1
        kind: Service
        metadata: {name: echo}
        spec:
          type: NodePort
          selector: {app: echo}
          ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]

        """;

    /// <summary>GET /cgi-bin/who from inside <paramref name="netns"/>: the answer's "NAME CLIENT-IP" line.</summary>
    private static async Task<string> AskAsync(string netns, string address, int port)
    {
        using var socket = NetworkNamespace.Run(netns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        // A safety net against a hang, not a timing assertion.
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.ConnectAsync(IPAddress.Parse(address), port, guard.Token);
        await socket.SendAsync("GET /cgi-bin/who HTTP/1.0\r\n\r\n"u8.ToArray(), guard.Token);
        var body = new MemoryStream();
        var buffer = new byte[1024];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, guard.Token)) > 0)
        {
            body.Write(buffer, 0, n);
        }
        return Plain(Encoding.ASCII.GetString(body.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last());
    }

    /// <summary>busybox httpd gives REMOTE_ADDR as "[::ffff:A.B.C.D]"; the answer with the plain IPv4 address.</summary>
    private static string Plain(string answer) => answer.Replace("[::ffff:", "", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal);

    /// <summary>Asks until the answer satisfies <paramref name="ok"/> (rules and servers come up on their own
    /// schedule); connection errors while waiting are expected.</summary>
    private static async Task<string> AskUntilAsync(string netns, string address, int port, Func<string, bool> ok, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        string last = "(nothing)";
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                last = await AskAsync(netns, address, port);
                if (ok(last))
                {
                    return last;
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(100, CancellationToken.None);
        }
        throw new TimeoutException($"{what}: not within 90 s; last answer: {last}");
    }

    /// <summary>Pearson's chi-square statistic of the counts against an even spread.</summary>
    private static double ChiSquare(IReadOnlyCollection<int> counts)
    {
        var expected = counts.Sum() / (double)counts.Count;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }

    [PrivilegedTheory]
    [InlineData("iptables")]
    [InlineData("userspace")]
    public async Task ClusterIpAndNodePortSpreadOverTheAgentsPodsFromTheNodeAPodAndOutside(string mode)
    {
        _mode = mode;
        var agent = await _node.StartAsync(_netns.NodePath, null, _cluster.ProxiedAgentFlags(
            "--network-plugin", "bridge", "--pod-cidr", PodCidr, "--kube-proxy-arg", "iptables-min-sync-period=0s", "--kube-proxy-arg", "proxy-mode=" + mode,
            // The proxy's own credential, as k3s gives its in-agent kube-proxy: a node may not list EndpointSlices.
            "--kube-proxy-arg", "kubeconfig=" + _cluster.Server.KubeProxyKubeconfig));
        try
        {
            await ServeAndCheckAsync(agent);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{e}\nthe agent said (last 150 lines):\n{string.Join('\n', agent.Lines.TakeLast(150))}");
        }
    }

    private async Task ServeAndCheckAsync(AgentProcess agent)
    {
        await _cluster.WaitNodeReadyAsync();
        string[] names = ["echo-a", "echo-b", "echo-c"];
        await _cluster.KubectlOkAsync("apply -f -", string.Concat(names.Select(Backend)) + Service);
        var ips = new Dictionary<string, string>();
        foreach (var name in names)
        {
            var pod = await _cluster.WaitPodAsync(name, p => p.Status?.Phase == "Running" && p.Status.PodIP is not null, "running with an IP");
            ips[name] = pod.Status.PodIP;
            Assert.StartsWith("10.78.0.", pod.Status.PodIP, StringComparison.Ordinal);
        }
        var svc = await _cluster.WaitAsync(KubeResources.Services, "default", c => c.Get("default", "echo"), "service echo");
        var clusterIp = svc.Spec.ClusterIP;
        var nodePort = svc.Spec.Ports.Single().NodePort!.Value;

        // From the node: every backend answers (each waited for: its server starts after the container does), then
        // 300 connections spread evenly (chi-square with 2 degrees of freedom under 9.21: the 1 % level).
        foreach (var name in names)
        {
            await AskUntilAsync(_netns.NodePath, clusterIp, 80, a => a.StartsWith(name + " ", StringComparison.Ordinal), $"{name} through {clusterIp}:80");
        }
        var counts = names.ToDictionary(n => n, _ => 0);
        for (var i = 0; i < 300; i++)
        {
            var answer = await AskAsync(_netns.NodePath, clusterIp, 80);
            counts[answer.Split(' ')[0]]++;
        }
        Assert.True(ChiSquare(counts.Values) < 9.21, $"uneven spread over 300 connections: {string.Join(", ", counts)}");

        // From outside, to the NodePort on the node's uplink address: answered by the backends, the client
        // masqueraded to the node (externalTrafficPolicy Cluster).
        var outside = new HashSet<string>();
        for (var i = 0; i < 30; i++)
        {
            var answer = await AskUntilAsync(_netns.OutsidePath, NodeNetns.NodeAddress, nodePort, _ => true, $"NodePort {nodePort}");
            outside.Add(answer.Split(' ')[0]);
            Assert.DoesNotContain(NodeNetns.OutsideAddress, answer, StringComparison.Ordinal);
        }
        Assert.True(outside.Count >= 2, $"30 NodePort connections reached only {string.Join(", ", outside)}");

        // From a pod on the same bridge: its own address is kept (no masquerade inside the cluster CIDR), and the
        // answers come back through conntrack although client and backend share the bridge.
        await _cluster.KubectlOkAsync("apply -f -", $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: client}
            spec:
              restartPolicy: Never
              containers:
              - name: wget
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                command: ["sh", "-c", "for i in $(seq 1 30); do wget -q -O - http://{{clusterIp}}/cgi-bin/who || echo FAILED; done"]

            """);
        var client = await _cluster.WaitPodAsync("client", p => p.Status?.Phase is "Succeeded" or "Failed", "finished");
        Assert.Equal("Succeeded", client.Status.Phase);
        var answers = PodLog("client", "wget");
        Assert.Equal(30, answers.Count);
        // The userspace proxy connects to the backend itself, from the node's bridge address.
        Assert.All(answers, a => Assert.Matches($@"^echo-[abc] {Regex(_mode == "iptables" ? client.Status.PodIP : "10.78.0.1")}$", a));
        Assert.True(answers.Select(a => a.Split(' ')[0]).Distinct().Count() >= 2, string.Join("\n", answers));

        // externalTrafficPolicy Local: the outside client's own address reaches the backend; ClientIP affinity pins
        // one client to one backend.
        await _cluster.KubectlOkAsync("apply -f -", """
            apiVersion: v1
            kind: Service
            metadata: {name: echo-local}
            spec:
              type: NodePort
              externalTrafficPolicy: Local
              selector: {app: echo}
              ports: [{port: 80, targetPort: 8080}]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: echo-sticky}
            spec:
              selector: {app: echo}
              sessionAffinity: ClientIP
              ports: [{port: 80, targetPort: 8080}]

            """);
        var local = await _cluster.WaitAsync(KubeResources.Services, "default", c => c.Get("default", "echo-local"), "service echo-local");
        var localPort = local.Spec.Ports.Single().NodePort!.Value;
        if (_mode == "iptables")
        {
            // (The userspace proxy never kept a client's address: kube-proxy's userspace mode could not either.)
            var kept = await AskUntilAsync(_netns.OutsidePath, NodeNetns.NodeAddress, localPort, _ => true, $"NodePort {localPort} (Local)");
            Assert.EndsWith(" " + NodeNetns.OutsideAddress, kept, StringComparison.Ordinal);
        }
        var stickyIp = (await _cluster.WaitAsync(KubeResources.Services, "default", c => c.Get("default", "echo-sticky"), "service echo-sticky")).Spec.ClusterIP;
        var pinned = (await AskUntilAsync(_netns.NodePath, stickyIp, 80, _ => true, "echo-sticky")).Split(' ')[0];
        for (var i = 0; i < 30; i++)
        {
            Assert.StartsWith(pinned + " ", await AskAsync(_netns.NodePath, stickyIp, 80), StringComparison.Ordinal);
        }

        // A deleted backend leaves the EndpointSlice and gets no new connection.
        await _cluster.KubectlOkAsync("delete pod echo-c --wait=true");
        await _cluster.WaitAsync(KubeResources.EndpointSlices, "default",
            c => c.List().FirstOrDefault(s => s.Metadata.Labels?["kubernetes.io/service-name"] == "echo" && s.Endpoints?.Count == 2), "slice of 2 endpoints");
        await AskUntilAsync(_netns.NodePath, clusterIp, 80, a => !a.StartsWith("echo-c ", StringComparison.Ordinal), "echo-c gone");
        for (var i = 0; i < 60; i++)
        {
            Assert.DoesNotMatch("^echo-c ", await AskAsync(_netns.NodePath, clusterIp, 80));
        }

        // With every backend gone, the service refuses at once (REJECT in the filter table), it does not time out.
        await _cluster.KubectlOkAsync("delete pod echo-a echo-b --wait=true");
        await _cluster.WaitAsync(KubeResources.EndpointSlices, "default",
            c => c.List().FirstOrDefault(s => s.Metadata.Labels?["kubernetes.io/service-name"] == "echo" && (s.Endpoints?.Count ?? 0) == 0), "empty slice");
        var refused = await WaitRefusedAsync(clusterIp, 80);
        Assert.Equal(SocketError.ConnectionRefused, refused);

        Assert.Contains(agent.Lines, l => l.Contains($"Starting the service proxy for node node1 in {_mode} mode", StringComparison.Ordinal));
        Assert.DoesNotContain(agent.Lines, l => l.Contains("service proxy stopped", StringComparison.Ordinal));
    }

    /// <summary>Connects until refused (the deleted pods' rules may still be there for a sync); the error seen.</summary>
    private async Task<SocketError> WaitRefusedAsync(string address, int port)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var last = SocketError.Success;
        while (!deadline.IsCancellationRequested)
        {
            try
            {
                await AskAsync(_netns.NodePath, address, port);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                return e.SocketErrorCode;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                last = e is SocketException s ? s.SocketErrorCode : SocketError.TimedOut;
            }
            await Task.Delay(100, CancellationToken.None);
        }
        return last;
    }

    private static string Regex(string text) => System.Text.RegularExpressions.Regex.Escape(text);

    /// <summary>The lines a pod's container wrote to its CRI log under the agent's pod log directory.</summary>
    private List<string> PodLog(string pod, string container)
    {
        var dir = Directory.GetDirectories(_node.Rt.Logs, $"default_{pod}_*").Single();
        return File.ReadAllLines(Path.Combine(dir, container, "0.log"))
            .Select(l => l.Split(' ', 4))
            .Where(p => p.Length == 4 && p[1] == "stdout")
            .Select(p => Plain(p[3]))
            .ToList();
    }
}
