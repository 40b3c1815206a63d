using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's termination messages end to end (kubelet's getTerminationMessage): what a container writes to its
/// terminationMessagePath is its terminated state's message; with FallbackToLogsOnError a failed container that
/// wrote nothing gets the end of its log; with the default policy it gets nothing from the log.
/// </summary>
[Collection("agent")]
public sealed class TerminationMessageAgentTests : AgentNodeTest
{
    private static string Pod(string name, string script, string extra = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}}
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "{{script}}"]
        {{extra}}
        """;

    private static async Task<k8s.Models.V1ContainerStateTerminated> FinishedAsync(AgentProcess agent, string pod)
    {
        await agent.WaitForPhaseAsync(pod, "Failed");
        var finished = await agent.WaitPodAsync(pod, p => p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Terminated is not null);
        return finished.Status.ContainerStatuses.Single().State.Terminated;
    }

    [PrivilegedFact]
    public async Task TheMessageFileDefaultAndCustomAndTheLogFallback()
    {
        var agent = await Node.StartAsync();
        Node.Write("a.yaml", Pod("written", "echo -n 'disk full' > /dev/termination-log; exit 3"));
        Node.Write("b.yaml", Pod("custom", "echo 'from custom path' > /tmp/why; echo noise; exit 4", "    terminationMessagePath: /tmp/why"));
        Node.Write("c.yaml", Pod("fallback", "for i in $(seq 1 100); do echo line $i; done; exit 5", "    terminationMessagePolicy: FallbackToLogsOnError"));
        Node.Write("d.yaml", Pod("silent", "echo only in the log; exit 6"));

        var written = await FinishedAsync(agent, "written-node1");
        Assert.Equal((3, "disk full"), (written.ExitCode, written.Message));
        var custom = await FinishedAsync(agent, "custom-node1");
        Assert.Equal((4, "from custom path\n"), (custom.ExitCode, custom.Message));
        var fallback = await FinishedAsync(agent, "fallback-node1");
        var lines = fallback.Message.TrimEnd('\n').Split('\n');
        Assert.Equal(80, lines.Length);
        Assert.Equal(("line 21", "line 100"), (lines[0], lines[^1]));
        var silent = await FinishedAsync(agent, "silent-node1");
        Assert.Equal(6, silent.ExitCode);
        Assert.Null(silent.Message);
    }

    [PrivilegedFact]
    public async Task APodPastItsActiveDeadlineFailsWithDeadlineExceeded()
    {
        // kubelet's activeDeadlineHandler: past activeDeadlineSeconds (from the pod's start on the node) the pod is
        // Failed, reason DeadlineExceeded, its containers stopped and not restarted despite restartPolicy Always.
        var agent = await Node.StartAsync();
        Node.Write("deadline.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: deadline}
            spec:
              activeDeadlineSeconds: 2
              terminationGracePeriodSeconds: 5
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: Never
                command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]
            """);
        await agent.WaitForPhaseAsync("deadline-node1", "Running");
        await agent.WaitForPhaseAsync("deadline-node1", "Failed");
        var pod = await agent.WaitPodAsync("deadline-node1", p => p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Terminated is not null);
        Assert.Equal(("Failed", "DeadlineExceeded", "Pod was active on the node longer than the specified deadline"),
            (pod.Status.Phase, pod.Status.Reason, pod.Status.Message));
        Assert.Equal(0, pod.Status.ContainerStatuses.Single().RestartCount);
        Assert.Contains(agent.Lines, l => l.Contains("event pod=default/deadline-node1 ", StringComparison.Ordinal) && l.EndsWith("Stopping container main", StringComparison.Ordinal));
    }
}
