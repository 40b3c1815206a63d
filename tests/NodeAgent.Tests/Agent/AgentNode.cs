using System.Diagnostics;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// What a daemon test starts from: a runtime root of its own, a manifest directory, and the agents it started. All
/// of it is removed when the test ends, failed or not (agents first, then the runtime's pods and the directories).
/// </summary>
public sealed class AgentNode : IAsyncDisposable
{
    private readonly List<AgentProcess> _agents = [];

    public RuntimeFixture Rt { get; } = new();

    public TempDir Manifests { get; } = new("nodeagent-manifests");

    /// <summary>The path of a file in the manifest directory.</summary>
    public string Manifest(string file) => Manifests.Combine(file);

    public void Write(string file, string content) => File.WriteAllText(Manifest(file), content);

    /// <summary>Starts an agent on this node's root and manifests (in a network namespace when <paramref name="netns"/> is set).</summary>
    public async Task<AgentProcess> StartAsync(string? netns, Action<ProcessStartInfo>? configure, params string[] extra)
    {
        var agent = await AgentProcess.StartConfiguredAsync(netns, Rt, Manifests.Path, configure, extra);
        _agents.Add(agent);
        return agent;
    }

    public Task<AgentProcess> StartAsync(params string[] extra) => StartAsync(null, null, extra);

    /// <summary>Kills the agent (SIGKILL: no clean-up of its own) and forgets it; its pods stay.</summary>
    public async Task KillAsync(AgentProcess agent)
    {
        agent.Kill();
        await agent.DisposeAsync();
        _agents.Remove(agent);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var a in _agents)
        {
            await a.DisposeAsync();
        }

        Rt.Dispose();
        Manifests.Dispose();
    }
}
