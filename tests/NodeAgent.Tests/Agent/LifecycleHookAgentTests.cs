using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's postStart and preStop hooks end to end with static pods and real containers, each named after the
/// kubelet behaviour it checks: a preStop httpGet reaches the container before it is stopped (a CGI script leaves a
/// mark in a hostPath the test reads), a failing preStop is a FailedPreStopHook event and the pod still goes, and a
/// failing postStart kills the container (FailedPostStartHook, then Killing "FailedPostStartHook") and restarts it.
/// </summary>
[Collection("agent")]
public sealed class LifecycleHookAgentTests : AgentNodeTest
{
    private TempDir _marks = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Node is not null)
        {
            _marks = new TempDir("nodeagent-hooks");
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
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
        var agent = await Node.StartAsync();
        Node.Write("hooked.yaml", Pod("hooked", """
                  preStop: {httpGet: {path: /cgi-bin/stop, port: 8080}}
                readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
            """));
        await agent.WaitForPhaseAsync("hooked-node1", "Running");
        // The server starts after the container does; the hook must find it up, so wait until it answers.
        await agent.WaitPodAsync("hooked-node1", p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        File.Delete(Node.Manifest("hooked.yaml"));
        await agent.WaitForLogAsync(l => l.Contains("pod hooked-node1_default(", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(_marks.Path, "prestop")), "the preStop hook did not reach the container");
        Assert.DoesNotContain(agent.Lines, l => l.Contains("FailedPreStopHook", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task AFailingPreStopIsAnEventAndThePodStillGoes()
    {
        var agent = await Node.StartAsync();
        Node.Write("badstop.yaml", Pod("badstop", """
                  preStop: {httpGet: {path: /, port: 9999}}
            """));
        await agent.WaitForPhaseAsync("badstop-node1", "Running");
        File.Delete(Node.Manifest("badstop.yaml"));
        var failed = await agent.WaitForEventAsync("badstop-node1", "FailedPreStopHook");
        Assert.EndsWith("PreStopHook failed", failed, StringComparison.Ordinal);
        await agent.WaitForLogAsync(l => l.Contains("pod badstop-node1_default(", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        Assert.Contains(agent.Lines, l => l.Contains("hook failed", StringComparison.Ordinal) && l.Contains("connection refused", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task AFailingPostStartKillsAndRestartsTheContainer()
    {
        var agent = await Node.StartAsync();
        Node.Write("badstart.yaml", Pod("badstart", """
                  postStart: {httpGet: {path: /, port: 9999}}
            """));
        var failed = await agent.WaitForEventAsync("badstart-node1", "FailedPostStartHook");
        Assert.EndsWith("PostStartHook failed", failed, StringComparison.Ordinal);
        var killing = await agent.WaitForEventAsync("badstart-node1", "Killing");
        Assert.EndsWith("FailedPostStartHook", killing, StringComparison.Ordinal);
        // The restart comes after the crash-loop backoff: a second FailedPostStartHook.
        await agent.WaitForEventAsync("badstart-node1", "FailedPostStartHook", occurrence: 2);
        // The status is published after the sync that ran the hook; it arrives on its own schedule.
        await agent.WaitPodAsync("badstart-node1", p => p.Status.ContainerStatuses?.SingleOrDefault() is { RestartCount: >= 1 } web
            && web.State?.Waiting?.Reason is "PostStartHookError" or "CrashLoopBackOff");
    }
}
