using System.Diagnostics;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// The daemon with its built-in pod network, run inside a network namespace the test creates (the stand-in for the
/// node): pods get addresses from --pod-cidr, status.podIP shows them, and one pod reaches another by IP.
/// </summary>
[Collection("agent")]
public sealed class PodNetworkAgentTests : IAsyncLifetime
{
    private readonly string _netns = "nodeagent-e2e-" + Guid.NewGuid().ToString("N")[..8];
    private RuntimeFixture _rt = null!;
    private TempDir _manifests = null!;
    private AgentProcess? _agent;

    public Task InitializeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return Task.CompletedTask;
        }

        _rt = new RuntimeFixture();
        _manifests = new TempDir("nodeagent-manifests");
        Ip("netns", "add", _netns);
        Ip("-n", _netns, "link", "set", "lo", "up");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        _rt?.Dispose();
        _manifests?.Dispose();
        if (!Privileged.SkipRequested)
        {
            // The bridge, the host ends of the veths and the NAT rules all live in this namespace and go with it.
            Ip("netns", "del", _netns);
        }
    }

    [PrivilegedFact]
    public async Task PodsGetAddressesFromThePodCidrAndReachEachOther()
    {
        _agent = await AgentProcess.StartInAsync(_netns, _rt, _manifests.Path, "--network-plugin", "bridge", "--pod-cidr", "10.77.0.0/24", "--network-check-frequency", "1s");
        File.WriteAllText(Path.Combine(_manifests.Path, "server.yaml"), """
            apiVersion: v1
            kind: Pod
            metadata: {name: server}
            spec:
              terminationGracePeriodSeconds: 0
              containers:
              - name: httpd
                image: localhost/busybox:latest
                imagePullPolicy: Never
                command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
                ports: [{containerPort: 8080}]
            """);
        await _agent.WaitForLogAsync(l => l.Contains("pod server-node1_default(", StringComparison.Ordinal) && l.EndsWith("-> Running", StringComparison.Ordinal));
        var server = (await _agent.PodAsync("server-node1"))!;
        Assert.StartsWith("10.77.0.", server.Status.PodIP, StringComparison.Ordinal);
        Assert.Equal(server.Status.PodIP, Assert.Single(server.Status.PodIPs).Ip);

        // A second pod fetches the server's /etc/hosts (which names the server's own IP) over the pod network.
        File.WriteAllText(Path.Combine(_manifests.Path, "client.yaml"), $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: client}
            spec:
              restartPolicy: Never
              containers:
              - name: wget
                image: localhost/busybox:latest
                imagePullPolicy: Never
                # busybox-static's wget crashes in glibc's static NSS; nc speaks HTTP/1.0 fine. The loop covers the
                # server still binding its port (there is no readiness probe yet to wait for).
                command: ["sh", "-c", "for i in $(seq 50); do out=$(printf 'GET /hosts HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {{server.Status.PodIP}} 8080) && [ -n \"$out\" ] && echo \"$out\" && exit 0; sleep 0.1; done; exit 1"]
            """);
        await _agent.WaitForLogAsync(l => l.Contains("pod client-node1_default(", StringComparison.Ordinal) && (l.EndsWith("-> Succeeded", StringComparison.Ordinal) || l.EndsWith("-> Failed", StringComparison.Ordinal)));
        var client = (await _agent.PodAsync("client-node1"))!;
        var log = File.ReadAllText(Directory.GetFiles(_rt.Logs, "0.log", SearchOption.AllDirectories).Single(f => f.Contains("_client-node1_", StringComparison.Ordinal)));
        Assert.True(client.Status.Phase == "Succeeded", $"client pod {client.Status.Phase}: {k8s.KubernetesJson.Serialize(client.Status)}; its output:\n{log}");
        Assert.StartsWith("10.77.0.", client.Status.PodIP, StringComparison.Ordinal);
        Assert.NotEqual(server.Status.PodIP, client.Status.PodIP);
        Assert.Contains($"{server.Status.PodIP}\tserver-node1", log, StringComparison.Ordinal);

        // The network resync finds the server's network as it was set up, then notices when its interface goes away.
        await _agent.WaitForLogAsync(l => l.Contains("pod default/server-node1: network of sandbox", StringComparison.Ordinal) && l.EndsWith("checked", StringComparison.Ordinal));
        Assert.DoesNotContain(_agent.Lines, l => l.Contains("network check of sandbox", StringComparison.Ordinal));
        var netns = Directory.GetFiles(Path.Combine(_rt.Root, "sandboxes"), "net", SearchOption.AllDirectories)
            .Single(f => File.ReadAllText(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(f)!)!, "sandbox.json")).Contains("\"server-node1\"", StringComparison.Ordinal));
        Nsenter(netns, "ip", "link", "del", "eth0");
        var warning = await _agent.WaitForLogAsync(l => l.Contains("pod default/server-node1: network check of sandbox", StringComparison.Ordinal));
        Assert.Contains("failed", warning, StringComparison.Ordinal);
    }

    private static void Nsenter(string netnsPath, params string[] command) => Ip(["--net=" + netnsPath, .. command], "nsenter");

    private static void Ip(params string[] args) => Ip(args, "ip");

    private static void Ip(string[] args, string program)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)}: {err}");
        }
    }
}
