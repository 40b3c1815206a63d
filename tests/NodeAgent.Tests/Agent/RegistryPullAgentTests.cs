using NodeAgent.Tests.Registry;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// The daemon pulls a pod's image from a registry (Debian's docker-registry on loopback, reached through a mirror
/// entry of --registry-config) with kubelet's events, and reports a missing image as ErrImagePull then
/// ImagePullBackOff while the other pod runs.
/// </summary>
[Collection("agent")]
public sealed class RegistryPullAgentTests : IAsyncLifetime
{
    private RuntimeFixture _rt = null!;
    private TempDir _dir = null!;
    private RegistryServer? _registry;
    private AgentProcess? _agent;

    public async Task InitializeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return;
        }

        _rt = new RuntimeFixture();
        _dir = new TempDir("nodeagent-agent-pull");
        _registry = await RegistryServer.StartAsync();
        await _registry.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "team/busybox:1");
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        _rt?.Dispose();
        _dir?.Dispose();
    }

    [PrivilegedFact]
    public async Task PodImagesArePulledWithKubeletsEventsAndMissingOnesBackOff()
    {
        var manifests = _dir.Combine("manifests");
        Directory.CreateDirectory(manifests);
        var config = _dir.Combine("registries.yaml");
        // The registry speaks plain http: a mirror entry for its own name says so.
        File.WriteAllText(config, $"mirrors:\n  \"{_registry!.Host}\":\n    endpoint: [\"http://{_registry.Host}\"]\n");
        _agent = await AgentProcess.StartAsync(_rt, manifests, "--registry-config", config);

        File.WriteAllText(Path.Combine(manifests, "pulled.yaml"), $"""
            apiVersion: v1
            kind: Pod
            metadata: {"{"}name: pulled{"}"}
            spec:
              terminationGracePeriodSeconds: 0
              containers:
              - name: main
                image: {_registry.Host}/team/busybox:1
                command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]
              - name: missing
                image: {_registry.Host}/team/absent:1
            """);
        var pulling = await _agent.WaitForEventAsync("pulled-node1", "Pulling");
        Assert.Contains($"Pulling image \"{_registry.Host}/team/busybox:1\"", pulling, StringComparison.Ordinal);
        var pulled = await _agent.WaitForEventAsync("pulled-node1", "Pulled");
        Assert.Contains("Successfully pulled image", pulled, StringComparison.Ordinal);
        await _agent.WaitForEventAsync("pulled-node1", "Started");
        Assert.NotNull(_rt.Images.Resolve($"{_registry.Host}/team/busybox:1"));

        await _agent.WaitForEventAsync("pulled-node1", "BackOff");
        var pod = (await _agent.PodAsync("pulled-node1"))!;
        var main = pod.Status.ContainerStatuses.Single(c => c.Name == "main");
        var missing = pod.Status.ContainerStatuses.Single(c => c.Name == "missing");
        Assert.NotNull(main.State.Running);
        Assert.Contains(missing.State.Waiting.Reason, new[] { "ErrImagePull", "ImagePullBackOff" });
        Assert.Contains("team/absent:1", missing.State.Waiting.Message, StringComparison.Ordinal);
    }
}
