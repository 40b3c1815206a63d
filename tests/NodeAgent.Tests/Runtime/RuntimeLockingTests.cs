using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>
/// Per-object locks: the CLI and the daemon sharing a root exclude each other on one container (check and launch are
/// one step), and one sandbox's slow network set-up does not hold up another sandbox.
/// </summary>
public sealed class RuntimeLockingTests : IDisposable
{
    private readonly GatedNetwork _network = new("slow");
    private readonly RuntimeFixture _rt;

    public RuntimeLockingTests() => _rt = new RuntimeFixture(() => _network);

    [PrivilegedFact]
    public async Task OfTheCliAndTheDaemonStartingOneContainerExactlyOneStartsIt()
    {
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("race"), CancellationToken.None);
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", "sleep", "300"), CancellationToken.None);
        var lockPath = Path.Combine(_rt.Root, "containers", id, "lock");

        // Both wait on the container's lock before either checks, so they really race for the one start.
        Task<string?> cli, inProcess;
        using (FileLock.Acquire(lockPath))
        {
            cli = Outcome(CliProcess.RunAsync(_rt, "ctr", "start", id));
            inProcess = Outcome(_rt.Runtime.StartContainerAsync(id, CancellationToken.None));
            await FlockWaiters.WaitForAsync(lockPath, 2);
        }

        var outcomes = await Task.WhenAll(cli, inProcess).WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Single(outcomes, o => o is null);
        Assert.Contains("was already started", Assert.Single(outcomes, o => o is not null));
        Assert.Single(ShimsOf(id));

        // Whichever process won, this one reports the container running.
        Assert.Equal(ContainerState.Running, _rt.Runtime.ContainerStatus(id)!.State);
    }

    [PrivilegedFact]
    public async Task ASandboxIsCreatedWhileAnotherSandboxsNetworkSetUpIsBlocked()
    {
        var slow = _rt.Runtime.RunPodSandboxAsync(_rt.Pod("slow"), CancellationToken.None);
        await _network.Entered.Task.WaitAsync(TimeSpan.FromSeconds(60));

        var fast = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("fast"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var container = await _rt.Runtime.CreateContainerAsync(fast, RuntimeFixture.Container("main", "true"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(container, CancellationToken.None);
        Assert.False(slow.IsCompleted);
        Assert.Equal(SandboxState.Ready, _rt.Runtime.PodSandboxStatus(fast)!.State);

        // A sandbox is listed once it is complete.
        Assert.Equal([fast], _rt.Runtime.ListPodSandboxes().Select(s => s.Id));

        _network.Release.SetResult();
        var slowId = await slow.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(["10.99.0.1"], _rt.Runtime.PodSandboxStatus(slowId)!.PodIps);
        Assert.Equal(2, _rt.Runtime.ListPodSandboxes().Count);
    }

    [PrivilegedFact]
    public async Task AnUnknownOrMalformedIdIsNotFound()
    {
        foreach (var id in new[] { new string('a', 64), "../../etc", "" })
        {
            var start = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.StartContainerAsync(id, CancellationToken.None));
            Assert.Equal(RuntimeErrorKind.NotFound, start.Kind);
            var create = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.CreateContainerAsync(id, RuntimeFixture.Container("x", "true"), CancellationToken.None));
            Assert.Equal(RuntimeErrorKind.NotFound, create.Kind);
        }
    }

    private static async Task<string?> Outcome(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception ex) when (ex is RuntimeException or InvalidOperationException)
        {
            return ex.Message;
        }
    }

    private List<int> ShimsOf(string containerId)
    {
        var bundle = Path.Combine(_rt.Root, "containers", containerId);
        var shims = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (args.Length >= 3 && args[1] == "run" && args[2] == bundle)
                {
                    shims.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
        }

        return shims;
    }

    public void Dispose()
    {
        _network.Release.TrySetResult();
        _rt.Dispose();
    }

    /// <summary>A pod network whose set-up of one pod waits until the test releases it.</summary>
    private sealed class GatedNetwork(string gatedPod) : IPodNetwork
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<PodNetworkStatus> SetUpAsync(PodNetworkRequest request, CancellationToken cancellationToken)
        {
            if (request.PodName == gatedPod)
            {
                Entered.TrySetResult();
                await Release.Task.WaitAsync(cancellationToken);
                return new PodNetworkStatus(["10.99.0.1"]);
            }

            return new PodNetworkStatus(["10.99.0.2"]);
        }

        public Task TearDownAsync(PodNetworkRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CheckAsync(PodNetworkRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ReconcileAsync(IReadOnlyCollection<string> liveSandboxIds, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
