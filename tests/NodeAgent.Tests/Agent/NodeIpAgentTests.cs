using System.Diagnostics;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// kubelet's node IP detection in the real daemon, inside a network namespace the test makes: without --node-ip the
/// node's address is the global address of the default route's interface (ChooseHostInterface), and pods get it as
/// their hostIP; without a default route there is none, and the agent says so and still runs.
/// </summary>
[Collection("agent")]
public sealed class NodeIpAgentTests : IAsyncLifetime
{
    private readonly string _netns = "nodeagent-nodeip-" + Guid.NewGuid().ToString("N")[..8];
    private RuntimeFixture _rt = null!;
    private TempDir _manifests = null!;

    public Task InitializeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return Task.CompletedTask;
        }

        _rt = new RuntimeFixture();
        _manifests = new TempDir("nodeagent-manifests");
        Ip("netns", "add", _netns);
        try
        {
            Ip("-n", _netns, "link", "set", "lo", "up");
            // veth pairs (this kernel may have no dummy driver); each end up, so the links are operationally up.
            Ip("-n", _netns, "link", "add", "d0", "type", "veth", "peer", "name", "d0p");
            Ip("-n", _netns, "link", "set", "d0p", "up");
            Ip("-n", _netns, "link", "set", "d0", "up");
            Ip("-n", _netns, "addr", "add", "fe80::7/64", "dev", "d0");
            Ip("-n", _netns, "addr", "add", "198.51.100.7/24", "dev", "d0");
            Ip("-n", _netns, "link", "add", "d1", "type", "veth", "peer", "name", "d1p");
            Ip("-n", _netns, "link", "set", "d1p", "up");
            Ip("-n", _netns, "link", "set", "d1", "up");
            Ip("-n", _netns, "addr", "add", "203.0.113.9/24", "dev", "d1");
        }
        catch
        {
            Ip("netns", "del", _netns);
            throw;
        }

        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _rt?.Dispose();
        _manifests?.Dispose();
        if (!Privileged.SkipRequested)
        {
            Ip("netns", "del", _netns);
        }

        return Task.CompletedTask;
    }

    [PrivilegedFact]
    public async Task TheDefaultRoutesInterfaceGivesTheNodeIp()
    {
        Ip("-n", _netns, "route", "add", "default", "via", "198.51.100.1", "dev", "d0");
        await using var agent = await StartWithoutNodeIpAsync();
        var starting = await agent.WaitForLogAsync(l => l.Contains("kubelet starting", StringComparison.Ordinal));
        Assert.Contains("node node1 (198.51.100.7)", starting, StringComparison.Ordinal);
        Assert.DoesNotContain(agent.Lines, l => l.Contains("can't get ip address", StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task WithoutADefaultRouteThereIsNoNodeIpAndTheAgentSaysSo()
    {
        await using var agent = await StartWithoutNodeIpAsync();
        var starting = await agent.WaitForLogAsync(l => l.Contains("kubelet starting", StringComparison.Ordinal));
        Assert.Contains("node node1 ((none))", starting, StringComparison.Ordinal);
        var warning = await agent.WaitForLogAsync(l => l.Contains("can't get ip address of node node1", StringComparison.Ordinal));
        Assert.StartsWith("W", warning, StringComparison.Ordinal);
        Assert.True(await agent.StopAsync() == 0);
    }

    private Task<AgentProcess> StartWithoutNodeIpAsync() =>
        AgentProcess.StartConfiguredAsync(_netns, _rt, _manifests.Path, psi =>
        {
            var at = psi.ArgumentList.IndexOf("--node-ip");
            psi.ArgumentList.RemoveAt(at);
            psi.ArgumentList.RemoveAt(at);
        });

    private static void Ip(params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", args) { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', args)}: {err}");
        }
    }
}
