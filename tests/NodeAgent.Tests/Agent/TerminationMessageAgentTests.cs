using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's termination messages end to end (kubelet's getTerminationMessage): what a container writes to its
/// terminationMessagePath is its terminated state's message; with FallbackToLogsOnError a failed container that
/// wrote nothing gets the end of its log; with the default policy it gets nothing from the log.
/// </summary>
[Collection("agent")]
public sealed class TerminationMessageAgentTests : IAsyncLifetime
{
    private AgentNode _node = null!;

    public Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _node = new AgentNode();
        }
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

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

    private async Task<k8s.Models.V1ContainerStateTerminated> FinishedAsync(AgentProcess agent, string pod)
    {
        await agent.WaitForPhaseAsync(pod, "Failed");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            if ((await agent.PodAsync(pod))?.Status?.ContainerStatuses?.SingleOrDefault()?.State?.Terminated is { } t)
            {
                return t;
            }
            await Task.Delay(200, deadline.Token);
        }
    }

    [PrivilegedFact]
    public async Task TheMessageFileDefaultAndCustomAndTheLogFallback()
    {
        var agent = await _node.StartAsync();
        _node.Write("a.yaml", Pod("written", "echo -n 'disk full' > /dev/termination-log; exit 3"));
        _node.Write("b.yaml", Pod("custom", "echo 'from custom path' > /tmp/why; echo noise; exit 4", "    terminationMessagePath: /tmp/why"));
        _node.Write("c.yaml", Pod("fallback", "for i in $(seq 1 100); do echo line $i; done; exit 5", "    terminationMessagePolicy: FallbackToLogsOnError"));
        _node.Write("d.yaml", Pod("silent", "echo only in the log; exit 6"));

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
}
