using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>
/// The runtime's in-memory view: after any sequence of operations it lists what a fresh load from disk lists; CRI
/// filters narrow lists; changes made by another process on the same root are seen.
/// </summary>
public sealed class RuntimeViewTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task ListsEqualAFreshReloadAfterASequenceOfOperations()
    {
        var rt = _rt.Runtime;
        var (podA, done) = await _rt.StartAsync("a", RuntimeFixture.Container("done", "sh", "-c", "exit 4"));
        await _rt.WaitAsync(done);
        var sleeper = await rt.CreateContainerAsync(podA, RuntimeFixture.Container("sleeper", "sleep", "300"), CancellationToken.None);
        await rt.StartContainerAsync(sleeper, CancellationToken.None);
        var created = await rt.CreateContainerAsync(podA, RuntimeFixture.Container("created", "true"), CancellationToken.None);

        var (podB, stopped) = await _rt.StartAsync("b", RuntimeFixture.Container("stopped", "sleep", "300"));
        await rt.StopContainerAsync(stopped, TimeSpan.Zero, CancellationToken.None);
        var removed = await rt.CreateContainerAsync(podB, RuntimeFixture.Container("removed", "true"), CancellationToken.None);
        await rt.RemoveContainerAsync(removed, CancellationToken.None);
        await rt.StopPodSandboxAsync(podB, CancellationToken.None);

        var (podC, _) = await _rt.StartAsync("c", RuntimeFixture.Container("gone", "true"));
        await rt.RemovePodSandboxAsync(podC, CancellationToken.None);

        using var fresh = _rt.Open();
        Assert.Equal(Containers(fresh.ListContainers()), Containers(rt.ListContainers()));
        Assert.Equal(Sandboxes(fresh.ListPodSandboxes()), Sandboxes(rt.ListPodSandboxes()));

        var states = rt.ListContainers().ToDictionary(c => c.Name, c => (c.State, c.ExitCode));
        Assert.Equal((ContainerState.Exited, 4), states["done"]);
        Assert.Equal((ContainerState.Running, 0), states["sleeper"]);
        Assert.Equal((ContainerState.Created, 0), states["created"]);
        Assert.Equal((ContainerState.Exited, 137), states["stopped"]);
        Assert.Equal(4, states.Count);
        Assert.Equal(SandboxState.NotReady, rt.PodSandboxStatus(podB)!.State);
        Assert.Null(rt.PodSandboxStatus(podC));
        _ = created;
    }

    [PrivilegedFact]
    public async Task FiltersSelectBySandboxStateAndLabels()
    {
        var rt = _rt.Runtime;
        var labelled = _rt.Pod("labelled") with { Labels = new Dictionary<string, string> { ["io.kubernetes.pod.uid"] = "uid-1" } };
        var podA = await rt.RunPodSandboxAsync(labelled, CancellationToken.None);
        var podB = await rt.RunPodSandboxAsync(_rt.Pod("other"), CancellationToken.None);
        var running = await rt.CreateContainerAsync(podA, RuntimeFixture.Container("run", "sleep", "300") with { Labels = new Dictionary<string, string> { ["tier"] = "web" } }, CancellationToken.None);
        await rt.StartContainerAsync(running, CancellationToken.None);
        var idle = await rt.CreateContainerAsync(podA, RuntimeFixture.Container("idle", "true"), CancellationToken.None);
        var elsewhere = await rt.CreateContainerAsync(podB, RuntimeFixture.Container("elsewhere", "true"), CancellationToken.None);

        Assert.Equal([podA], rt.ListPodSandboxes(new PodSandboxFilter { LabelSelector = new Dictionary<string, string> { ["io.kubernetes.pod.uid"] = "uid-1" } }).Select(s => s.Id));
        Assert.Empty(rt.ListPodSandboxes(new PodSandboxFilter { LabelSelector = new Dictionary<string, string> { ["io.kubernetes.pod.uid"] = "uid-2" } }));
        Assert.Equal([podB], rt.ListPodSandboxes(new PodSandboxFilter { Id = podB }).Select(s => s.Id));
        Assert.Equal(2, rt.ListPodSandboxes(new PodSandboxFilter { State = SandboxState.Ready }).Count);

        Assert.Equal(new[] { idle, running }.Order(), rt.ListContainers(new ContainerFilter { PodSandboxId = podA }).Select(c => c.Id).Order());
        Assert.Equal([elsewhere], rt.ListContainers(new ContainerFilter { PodSandboxId = podB }).Select(c => c.Id));
        Assert.Equal([running], rt.ListContainers(new ContainerFilter { State = ContainerState.Running }).Select(c => c.Id));
        Assert.Equal([running], rt.ListContainers(new ContainerFilter { LabelSelector = new Dictionary<string, string> { ["tier"] = "web" } }).Select(c => c.Id));
        Assert.Equal([idle], rt.ListContainers(new ContainerFilter { PodSandboxId = podA, State = ContainerState.Created }).Select(c => c.Id));
        Assert.Empty(rt.ListContainers(new ContainerFilter { PodSandboxId = podB, State = ContainerState.Running }));
        Assert.Equal([elsewhere], rt.ListContainers(new ContainerFilter { Id = elsewhere }).Select(c => c.Id));
    }

    [PrivilegedFact]
    public async Task ChangesMadeByAnotherProcessOnTheRootAreSeen()
    {
        var before = _rt.Runtime.ListContainers();
        var id = (await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "outside", "localhost/busybox:latest", "sleep", "300")).Trim();
        Assert.Empty(before);
        var seen = Assert.Single(_rt.Runtime.ListContainers());
        Assert.Equal((id, ContainerState.Running), (seen.Id, seen.State));

        // This process watches the container it learnt of: the exit reaches its view.
        await CliProcess.RunAsync(_rt, "ctr", "stop", "-t", "0", id);
        await _rt.Runtime.WaitContainerAsync(id, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(ContainerState.Exited, _rt.Runtime.ContainerStatus(id)!.State);

        await CliProcess.RunAsync(_rt, "ctr", "rm", id);
        Assert.Empty(_rt.Runtime.ListContainers());
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
    }

    private static List<string> Containers(IEnumerable<ContainerStatus> list) =>
        list.OrderBy(c => c.Id)
            .Select(c => $"{c.Id} {c.SandboxId} {c.Name} {c.State} {c.ExitCode} {c.Reason} {c.StartedAt:O} {c.FinishedAt:O} {c.Pid} {c.LogPath}")
            .ToList();

    private static List<string> Sandboxes(IEnumerable<PodSandboxStatus> list) =>
        list.OrderBy(s => s.Id).Select(s => $"{s.Id} {s.Config.Name} {s.State} {string.Join(',', s.PodIps)} {s.CreatedAt:O}").ToList();

    public void Dispose() => _rt.Dispose();
}
