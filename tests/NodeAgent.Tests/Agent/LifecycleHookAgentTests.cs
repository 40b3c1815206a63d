using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's postStart and preStop hooks end to end with static pods and real containers, each named after the
/// kubelet behaviour it checks: a preStop httpGet reaches the container before it is stopped (a CGI script leaves a
/// mark in a hostPath the test reads), a failing preStop is a FailedPreStopHook event and the pod still goes, and a
/// failing postStart kills the container (FailedPostStartHook, then Killing "FailedPostStartHook") and restarts it.
/// </summary>
[Collection("agent")]
public sealed class LifecycleHookAgentTests : IAsyncLifetime
{
    private AgentNode _node = null!;
    private TempDir _marks = null!;

    public Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _node = new AgentNode();
            _marks = new TempDir("nodeagent-hooks");
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        _marks?.Dispose();
    }

    private string Pod(string name, string lifecycle) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}}
        spec:
          terminationGracePeriodSeconds: 5
          volumes:
          - name: marks
            hostPath: {path: "{{_marks.Path}}", type: Directory}
          containers:
          - name: web
            image: localhost/busybox:latest
            imagePullPolicy: Never
            volumeMounts: [{name: marks, mountPath: /marks}]
            command: ["sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\necho Content-Type: text/plain\\necho\\ntouch /marks/prestop\\necho bye\\n' > /www/cgi-bin/stop && chmod +x /www/cgi-bin/stop && exec httpd -f -p 8080 -h /www"]
            lifecycle:
        {{lifecycle}}
        """;

    [PrivilegedFact]
    public async Task PreStopHttpGetReachesTheContainerBeforeItStops()
    {
        var agent = await _node.StartAsync();
        _node.Write("hooked.yaml", Pod("hooked", """
                  preStop: {httpGet: {path: /cgi-bin/stop, port: 8080}}
                readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
            """));
        await agent.WaitForPhaseAsync("hooked-node1", "Running");
        // The server starts after the container does; the hook must find it up, so wait until it answers.
        await WaitServingAsync(agent, "hooked-node1");
        File.Delete(_node.Manifest("hooked.yaml"));
        await agent.WaitForLogAsync(l => l.Contains("pod hooked-node1_default(", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(_marks.Path, "prestop")), "the preStop hook did not reach the container");
        Assert.DoesNotContain(agent.Lines, l => l.Contains("FailedPreStopHook", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task AFailingPreStopIsAnEventAndThePodStillGoes()
    {
        var agent = await _node.StartAsync();
        _node.Write("badstop.yaml", Pod("badstop", """
                  preStop: {httpGet: {path: /, port: 9999}}
            """));
        await agent.WaitForPhaseAsync("badstop-node1", "Running");
        File.Delete(_node.Manifest("badstop.yaml"));
        var failed = await agent.WaitForEventAsync("badstop-node1", "FailedPreStopHook");
        Assert.EndsWith("PreStopHook failed", failed, StringComparison.Ordinal);
        await agent.WaitForLogAsync(l => l.Contains("pod badstop-node1_default(", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        Assert.Contains(agent.Lines, l => l.Contains("hook failed", StringComparison.Ordinal) && l.Contains("connection refused", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task AFailingPostStartKillsAndRestartsTheContainer()
    {
        var agent = await _node.StartAsync();
        _node.Write("badstart.yaml", Pod("badstart", """
                  postStart: {httpGet: {path: /, port: 9999}}
            """));
        var failed = await agent.WaitForEventAsync("badstart-node1", "FailedPostStartHook");
        Assert.EndsWith("PostStartHook failed", failed, StringComparison.Ordinal);
        var killing = await agent.WaitForEventAsync("badstart-node1", "Killing");
        Assert.EndsWith("FailedPostStartHook", killing, StringComparison.Ordinal);
        // The restart comes after the crash-loop backoff: a second FailedPostStartHook.
        await agent.WaitForEventAsync("badstart-node1", "FailedPostStartHook", occurrence: 2);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while ((await agent.PodAsync("badstart-node1"))?.Status?.ContainerStatuses?.SingleOrDefault() is not { RestartCount: >= 1 } web
               || web.State?.Waiting?.Reason is not ("PostStartHookError" or "CrashLoopBackOff"))
        {
            // The status is published after the sync that ran the hook; it arrives on its own schedule.
            await Task.Delay(200, deadline.Token);
        }
    }

    /// <summary>Waits until the pod is Ready: its readiness probe found the server listening.</summary>
    private static async Task WaitServingAsync(AgentProcess agent, string pod)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while ((await agent.PodAsync(pod))?.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") != true)
        {
            await Task.Delay(200, deadline.Token);
        }
    }
}
