using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's probes end to end, with static pods written as kubelet users write them and real containers (no pod
/// network: the probes reach each pod on its own namespace's loopback). Each test names the kubelet behaviour it
/// checks: readiness drives ready and the Ready condition, a failing liveness probe restarts the container with
/// kubelet's events, a failing startup probe does the same and keeps liveness from running before it succeeds.
/// </summary>
[Collection("agent")]
public sealed class ProbeAgentTests : AgentNodeTest
{
    private static string Pod(string name, string probes) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: web
            image: localhost/busybox:latest
            imagePullPolicy: Never
            ports: [{name: http, containerPort: 8080}]
            command: ["sh", "-c", "mkdir -p /www && echo ok > /www/ready && exec httpd -f -p 8080 -h /www"]
        {{probes}}
        """;

    [PrivilegedFact]
    public async Task ReadinessGatesReadyAndAFailingLivenessProbeRestartsTheContainer()
    {
        var agent = await Node.StartAsync();
        // kubelet: ready follows the readiness probe (httpGet by port name); liveness fails on 404 twice in a row,
        // then "Killing: Container web failed liveness probe, will be restarted" and the container restarts.
        Node.Write("probed.yaml", Pod("probed", """
                readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1}
                livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1, failureThreshold: 2}
            """));
        var unhealthy = await agent.WaitForEventAsync("probed-node1", "Unhealthy");
        Assert.EndsWith("Liveness probe failed: HTTP probe failed with statuscode: 404", unhealthy, StringComparison.Ordinal);
        var killing = await agent.WaitForEventAsync("probed-node1", "Killing");
        Assert.EndsWith("Container web failed liveness probe, will be restarted", killing, StringComparison.Ordinal);
        await agent.WaitForLogAsync(l => l.Contains("event pod=default/probed-node1 ", StringComparison.Ordinal) && l.Contains("reason=Started:", StringComparison.Ordinal)
            && agent.Count(x => x.Contains("event pod=default/probed-node1 ", StringComparison.Ordinal) && x.Contains("reason=Started:", StringComparison.Ordinal)) >= 2);

        // Between restarts the readiness probe makes the pod Ready.
        var ready = await agent.WaitPodAsync("probed-node1", p => p.Status.Conditions.Any(c => c.Type == "Ready" && c.Status == "True"));
        Assert.True(ready.Status.ContainerStatuses.Single().Ready);
        Assert.True(ready.Status.ContainerStatuses.Single().RestartCount >= 1);
    }

    [PrivilegedFact]
    public async Task ANeverReadyContainerRunsButIsNotReady()
    {
        var agent = await Node.StartAsync();
        Node.Write("unready.yaml", Pod("unready", """
                readinessProbe: {tcpSocket: {port: 9999}, periodSeconds: 1}
            """));
        var unhealthy = await agent.WaitForEventAsync("unready-node1", "Unhealthy");
        Assert.EndsWith("Readiness probe failed: dial tcp 127.0.0.1:9999: connect: connection refused", unhealthy, StringComparison.Ordinal);
        var pod = await agent.WaitPodAsync("unready-node1", p => p.Status.Phase == "Running");
        var web = pod.Status.ContainerStatuses.Single();
        Assert.NotNull(web.State.Running);
        Assert.True(web.Started);
        Assert.False(web.Ready);
        var readyCondition = pod.Status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal(("False", "ContainersNotReady", "containers with unready status: [web]"), (readyCondition.Status, readyCondition.Reason, readyCondition.Message));
        Assert.Equal(0, web.RestartCount);
    }

    [PrivilegedFact]
    public async Task AGrpcProbeWithoutAServerIsAConnectTimeoutAndKeepsThePodUnready()
    {
        var agent = await Node.StartAsync();
        // kubelet's grpc prober dials with WithBlock until timeoutSeconds: nothing on the port is a connect timeout,
        // "timeout: failed to connect service \"<podIP>:<port>\" within 1s: context deadline exceeded" (no pod IP
        // here, so an empty host), and the pod stays unready.
        Node.Write("grpc.yaml", Pod("grpc", """
                readinessProbe: {grpc: {port: 9999, service: web}, periodSeconds: 1, timeoutSeconds: 1}
            """));
        var unhealthy = await agent.WaitForEventAsync("grpc-node1", "Unhealthy");
        Assert.EndsWith("Readiness probe failed: timeout: failed to connect service \":9999\" within 1s: context deadline exceeded", unhealthy, StringComparison.Ordinal);
        var pod = await agent.WaitPodAsync("grpc-node1", p => p.Status.Phase == "Running");
        Assert.False(pod.Status.ContainerStatuses.Single().Ready);
    }

    [PrivilegedFact]
    public async Task AFailingStartupProbeRestartsTheContainerAndHoldsBackLiveness()
    {
        var agent = await Node.StartAsync();
        // kubelet: liveness and readiness wait for the startup probe; its failureThreshold failures restart the
        // container ("failed startup probe, will be restarted"), and the container is never started nor ready.
        Node.Write("slow.yaml", Pod("slow", """
                startupProbe: {tcpSocket: {port: 9999}, periodSeconds: 1, failureThreshold: 2}
                livenessProbe: {tcpSocket: {port: 9999}, periodSeconds: 1}
            """));
        var killing = await agent.WaitForEventAsync("slow-node1", "Killing");
        Assert.EndsWith("Container web failed startup probe, will be restarted", killing, StringComparison.Ordinal);
        Assert.DoesNotContain(agent.Lines, l => l.Contains("event pod=default/slow-node1 ", StringComparison.Ordinal) && l.Contains("Liveness probe", StringComparison.Ordinal));
        Assert.Contains(agent.Lines, l => l.Contains("event pod=default/slow-node1 ", StringComparison.Ordinal) && l.EndsWith("Startup probe failed: dial tcp 127.0.0.1:9999: connect: connection refused", StringComparison.Ordinal));
        var pod = await agent.WaitPodAsync("slow-node1", p => p.Status.ContainerStatuses?.SingleOrDefault() is { State.Running: not null });
        Assert.False(pod.Status.ContainerStatuses.Single().Started);
        Assert.False(pod.Status.ContainerStatuses.Single().Ready);
    }

    [PrivilegedFact]
    public async Task ExecProbesRunInTheContainerAsItsUser()
    {
        var agent = await Node.StartAsync();
        // kubelet: an exec probe runs through the runtime's ExecSync with the container's user; a non-root user may
        // not read /etc/shadow, so that readiness probe fails and the pod is never ready, while an exec liveness
        // probe that succeeds never restarts the container.
        Node.Write("shadow.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: shadow}
            spec:
              securityContext: {runAsUser: 1000, runAsGroup: 1000}
              containers:
              - name: web
                image: localhost/busybox:latest
                imagePullPolicy: Never
                command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]
                readinessProbe: {exec: {command: ["cat", "/etc/shadow"]}, periodSeconds: 1}
                livenessProbe: {exec: {command: ["sh", "-c", "test $(id -u) = 1000"]}, periodSeconds: 1}
            """);
        var unhealthy = await agent.WaitForEventAsync("shadow-node1", "Unhealthy");
        Assert.True(unhealthy.Contains("Readiness probe failed: cat: can't open '/etc/shadow': Permission denied", StringComparison.Ordinal), unhealthy);
        var pod = await agent.WaitPodAsync("shadow-node1", p => p.Status.Phase == "Running");
        Assert.False(pod.Status.ContainerStatuses.Single().Ready);
        Assert.DoesNotContain(agent.Lines, l => l.Contains("event pod=default/shadow-node1 ", StringComparison.Ordinal) && l.Contains("Liveness probe", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task AnExecLivenessProbeThatStartsFailingRestartsTheContainer()
    {
        var agent = await Node.StartAsync();
        // The Kubernetes documentation's liveness example: healthy while /tmp/healthy exists.
        Node.Write("liveness-exec.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: liveness-exec}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: liveness
                image: localhost/busybox:latest
                imagePullPolicy: Never
                command: ["sh", "-c", "touch /tmp/healthy; sleep 2; rm -f /tmp/healthy; sleep 600"]
                livenessProbe: {exec: {command: ["cat", "/tmp/healthy"]}, periodSeconds: 1, failureThreshold: 1}
            """);
        var unhealthy = await agent.WaitForEventAsync("liveness-exec-node1", "Unhealthy");
        // The command's output as it came (with its newline, which the log line shows escaped).
        Assert.Contains("Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory", unhealthy, StringComparison.Ordinal);
        var killing = await agent.WaitForEventAsync("liveness-exec-node1", "Killing");
        Assert.EndsWith("Container liveness failed liveness probe, will be restarted", killing, StringComparison.Ordinal);
        await agent.WaitPodAsync("liveness-exec-node1", p => p.Status.ContainerStatuses?.SingleOrDefault()?.RestartCount >= 1);
    }
}
