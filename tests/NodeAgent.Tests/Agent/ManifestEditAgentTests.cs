using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #10's ordinary edits that lost pods, against the real daemon: a manifest removed and put back while its pod
/// is still terminating (kubelet's "pod was restarted"), the manifest directory moved away and back, and pods from
/// --manifest-url across an agent restart by SIGTERM and by SIGKILL (re-adopted, never restarted).
/// </summary>
[Collection("agent")]
public sealed class ManifestEditAgentTests : IAsyncLifetime
{
    private AgentNode _node = null!;
    private TempDir _host = null!;

    public Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _node = new AgentNode();
            _host = new TempDir("nodeagent-hostpath");
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        _host?.Dispose();
    }

    private static string Pod(string name, string script = "trap 'exit 0' TERM; while true; do sleep 1 & wait; done", string extra = "") => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          terminationGracePeriodSeconds: 30
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "{script}"]

        """ + extra;

    private Task<AgentProcess> StartAsync(params string[] extra) => _node.StartAsync(extra);

    private void Write(string file, string content) => File.WriteAllText(_node.Manifests.Combine(file), content);

    private List<ContainerStatus> Running() => _node.Rt.Open().ListContainers().Where(c => c.State == ContainerState.Running).ToList();

    [PrivilegedFact]
    public async Task AManifestRemovedAndPutBackWhileItsPodTerminatesRunsItAgainInANewContainer()
    {
        // On SIGTERM the container holds on until the test lets it go (a file in a hostPath), so the manifest is
        // certainly back while the old incarnation is still terminating.
        var manifest = Pod("slow", "trap 'while [ ! -e /release/go ]; do sleep 0.1; done; exit 0' TERM; while true; do sleep 1 & wait; done", $$"""
              volumes:
              - name: release
                hostPath: {path: {{_host.Path}}, type: Directory}

            """).Replace("    command:", "    volumeMounts: [{name: release, mountPath: /release}]\n    command:", StringComparison.Ordinal);
        var agent = await StartAsync();
        Write("slow.yaml", manifest);
        await agent.WaitForEventAsync("slow-node1", "Started");
        await agent.WaitForPhaseAsync("slow-node1", "Running");
        var first = (await agent.PodAsync("slow-node1"))!;
        var firstId = first.Status.ContainerStatuses.Single().ContainerID;
        var uid = first.Metadata.Uid;

        File.Delete(_node.Manifests.Combine("slow.yaml"));
        await agent.WaitForEventAsync("slow-node1", "Killing");
        Write("slow.yaml", manifest);
        await agent.WaitForLogAsync(l => l.Contains($"slow-node1_default({uid}) is terminating but has been requested to restart", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(_host.Path, "go"), "");

        await agent.WaitForLogAsync(l => l.Contains($"({uid}): stopped and removed", StringComparison.Ordinal));
        await agent.WaitForLogAsync(l => l.Contains($"({uid}): pod was restarted", StringComparison.Ordinal));
        await agent.WaitForEventAsync("slow-node1", "Started", occurrence: 2);
        await agent.WaitForPhaseAsync("slow-node1", "Running", occurrence: 2);

        var pods = await agent.PodsAsync();
        var again = Assert.Single(pods);
        Assert.Equal(uid, again.Metadata.Uid);
        Assert.Equal("Running", again.Status.Phase);
        var status = again.Status.ContainerStatuses.Single();
        Assert.NotEqual(firstId, status.ContainerID);
        Assert.NotNull(status.State.Running);
        Assert.Equal(0, status.RestartCount);
        var running = Assert.Single(Running());
        Assert.Equal("nodeagent://" + running.Id, status.ContainerID);
        Assert.Equal(uid, running.Labels[ContainerConfigFactory.PodUidLabel]);
        Assert.DoesNotContain(_node.Rt.Open().ListContainers(), c => "nodeagent://" + c.Id == firstId);
        Assert.Single(_node.Rt.Open().ListPodSandboxes());
    }

    [PrivilegedFact]
    public async Task TheManifestDirectoryMovedAwayAndBackKeepsEveryPodRunning()
    {
        var agent = await StartAsync();
        Write("web.yaml", Pod("web"));
        Write("api.yaml", Pod("api"));
        await agent.WaitForPhaseAsync("web-node1", "Running");
        await agent.WaitForPhaseAsync("api-node1", "Running");
        var before = (await agent.PodsAsync()).ToDictionary(p => p.Metadata.Name, p => p.Status.ContainerStatuses.Single().ContainerID);

        var away = _node.Manifests.Path + ".away";
        Directory.Move(_node.Manifests.Path, away);
        var warning = await agent.WaitForLogAsync(l => l.Contains($"Static pod manifest path {_node.Manifests.Path} disappeared", StringComparison.Ordinal));
        Assert.Contains("keeping its 2 pods", warning, StringComparison.Ordinal);
        Directory.Move(away, _node.Manifests.Path);
        await agent.WaitForLogAsync(l => l.Contains($"Static pod manifest path {_node.Manifests.Path} is back", StringComparison.Ordinal));

        // A file written after the move back is seen: the source watches the directory again.
        Write("late.yaml", Pod("late"));
        await agent.WaitForPhaseAsync("late-node1", "Running");

        var after = await agent.PodsAsync();
        Assert.Equal(["api-node1", "late-node1", "web-node1"], after.Select(p => p.Metadata.Name).Order(StringComparer.Ordinal));
        Assert.All(after, p => Assert.Equal("Running", p.Status.Phase));
        foreach (var (name, id) in before)
        {
            var status = after.Single(p => p.Metadata.Name == name).Status.ContainerStatuses.Single();
            Assert.Equal(id, status.ContainerID);
            Assert.Equal(0, status.RestartCount);
        }

        Assert.Equal(0, agent.Count(l => l.Contains("reason=Killing", StringComparison.Ordinal) || l.Contains("stopped and removed", StringComparison.Ordinal)));
        Assert.Equal(3, Running().Count);
    }

    [PrivilegedFact]
    public async Task PodsFromAManifestUrlAreReadoptedAcrossSigtermAndSigkillRestarts()
    {
        await using var http = new LoopbackHttpServer { Response = (200, Pod("web"), "\"v1\"") };
        string[] flags = ["--manifest-url", http.Url.ToString(), "--http-check-frequency", "1s"];
        var agent = await StartAsync(flags);
        Write("decoy.yaml", Pod("decoy"));
        await agent.WaitForPhaseAsync("web-node1", "Running");
        await agent.WaitForPhaseAsync("decoy-node1", "Running");
        var pod = (await agent.PodAsync("web-node1"))!;
        Assert.Equal("http", pod.Metadata.Annotations["kubernetes.io/config.source"]);
        var webId = pod.Status.ContainerStatuses.Single().ContainerID;

        // SIGTERM, as systemd stops the agent: a clean exit, and the pods keep running.
        Assert.Equal(0, await agent.StopAsync());
        agent = await RestartWithoutTheDecoyAsync(flags);
        await AssertReadoptedAsync(agent, pod.Metadata.Uid, webId);

        // SIGKILL: no chance to clean up at all.
        Write("decoy.yaml", Pod("decoy"));
        await agent.WaitForPhaseAsync("decoy-node1", "Running");
        await _node.KillAsync(agent);
        agent = await RestartWithoutTheDecoyAsync(flags);
        await AssertReadoptedAsync(agent, pod.Metadata.Uid, webId);
        Assert.Equal(0, await agent.StopAsync());
    }

    /// <summary>Starts the agent again with the decoy's manifest gone while it was down: the decoy's removal by the
    /// orphan cleanup shows that cleanup has run, with the URL's pods known to it or not.</summary>
    private async Task<AgentProcess> RestartWithoutTheDecoyAsync(string[] flags)
    {
        File.Delete(_node.Manifests.Combine("decoy.yaml"));
        var agent = await StartAsync(flags);
        await agent.WaitForLogAsync(l => l.Contains("All pod sources synced", StringComparison.Ordinal));
        await agent.WaitForLogAsync(l => l.Contains("decoy-node1_default(", StringComparison.Ordinal) && l.EndsWith("stopped and removed", StringComparison.Ordinal));
        return agent;
    }

    private async Task AssertReadoptedAsync(AgentProcess agent, string uid, string containerId)
    {
        await agent.WaitForPhaseAsync("web-node1", "Running");
        var web = (await agent.PodAsync("web-node1"))!;
        Assert.Equal(uid, web.Metadata.Uid);
        var status = web.Status.ContainerStatuses.Single();
        Assert.Equal(containerId, status.ContainerID);
        Assert.Equal(0, status.RestartCount);
        Assert.Equal(containerId, "nodeagent://" + Assert.Single(Running()).Id);
        Assert.DoesNotContain(agent.Lines, l => l.Contains("web-node1", StringComparison.Ordinal) &&
            (l.Contains("reason=Killing", StringComparison.Ordinal) || l.Contains("reason=Started", StringComparison.Ordinal) || l.Contains("no longer wanted", StringComparison.Ordinal)));
        Assert.Equal(["web-node1"], _node.Rt.Open().ListPodSandboxes().Select(s => s.Config.Name));
    }
}
