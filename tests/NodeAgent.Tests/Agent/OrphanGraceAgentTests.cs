using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// End to end, as root: containers left by an earlier agent whose grace-period labels are absurd (long.MaxValue,
/// garbage) neither stop the agent from starting its pods nor its orphan cleanup (issue #10: "TimeSpan overflowed"
/// in OrphanPodKiller.Grace made every agent start manage no pod).
/// </summary>
[Collection("agent")]
public sealed class OrphanGraceAgentTests : IAsyncLifetime
{
    private const string Web = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          terminationGracePeriodSeconds: 5
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]
        """;

    // "ready" once the trap is set: a SIGTERM before it would be ignored by PID 1 for the whole grace period.
    private static readonly string[] TermAware = ["sh", "-c", "trap 'exit 0' TERM; echo ready; while true; do sleep 1 & wait; done"];

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

    private async Task<string> LeftOverPodAsync(string name, string graceLabel)
    {
        var config = _node.Rt.Pod(name);
        config = config with { Labels = new Dictionary<string, string> { [ContainerConfigFactory.PodUidLabel] = config.Uid } };
        var sandbox = await _node.Rt.Runtime.RunPodSandboxAsync(config, CancellationToken.None);
        var id = await _node.Rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", TermAware) with
        {
            Labels = new Dictionary<string, string> { [ContainerConfigFactory.PodUidLabel] = config.Uid, [ContainerConfigFactory.GracePeriodLabel] = graceLabel },
        }, CancellationToken.None);
        await _node.Rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var log = _node.Rt.Runtime.ContainerStatus(id)!.LogPath;
        await foreach (var entry in new NodeAgent.Logs.CriLogReader(log).ReadAsync(new NodeAgent.Logs.CriLogReadOptions { Follow = true }, timeout.Token))
        {
            if (entry.Content == "ready")
            {
                break;
            }
        }

        return config.Uid;
    }

    [PrivilegedFact]
    public async Task LeftOverContainersWithAbsurdGraceLabelsAreCleanedUpAndTheAgentRunsItsPods()
    {
        var huge = await LeftOverPodAsync("left-huge", "9223372036854775807");
        var garbage = await LeftOverPodAsync("left-garbage", "garbage");
        _node.Write("web.yaml", Web);

        var agent = await _node.StartAsync();
        await agent.WaitForEventAsync("web-node1", "Started");
        await agent.WaitForLogAsync(l => l.Contains($"({huge}): stopped and removed", StringComparison.Ordinal));
        await agent.WaitForLogAsync(l => l.Contains($"({garbage}): stopped and removed", StringComparison.Ordinal));

        var pod = await agent.PodAsync("web-node1");
        Assert.Equal("Running", pod?.Status.Phase);
        Assert.Equal(["web-node1"], _node.Rt.Open().ListPodSandboxes().Select(s => s.Config.Name));
        Assert.True(await agent.HealthyAsync());
        Assert.Equal(0, agent.Count(l => l.Contains("loop failed", StringComparison.Ordinal)));
    }
}
