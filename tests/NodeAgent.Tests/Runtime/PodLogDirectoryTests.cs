using NodeAgent.Runtime.Sandboxes;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>
/// Removed pods lose their log directories, as kubelet's container GC removes /var/log/pods/&lt;ns&gt;_&lt;name&gt;_&lt;uid&gt;;
/// directories that are not the pod's own by that naming are never removed.
/// </summary>
public sealed class PodLogDirectoryTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task RemovingASandboxRemovesItsPodsLogDirectory()
    {
        var config = _rt.Pod("logged");
        config = config with { LogDirectory = Path.Combine(_rt.Logs, $"test_logged_{config.Uid}") };
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(config, CancellationToken.None);
        var id = await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", "echo", "hello"), CancellationToken.None);
        await _rt.Runtime.StartContainerAsync(id, CancellationToken.None);
        await _rt.WaitAsync(id);
        Assert.Equal(["hello"], _rt.Stdout(id));

        await _rt.Runtime.RemovePodSandboxAsync(sandbox, CancellationToken.None);
        Assert.False(Directory.Exists(config.LogDirectory));
        Assert.True(Directory.Exists(_rt.Logs));
    }

    [PrivilegedFact]
    public async Task ADirectoryThatIsNotThePodsOwnStays()
    {
        // The fixture's default log directory is <logs>/<name>: not kubelet's naming, so not the runtime's to remove.
        var config = _rt.Pod("shared");
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(config, CancellationToken.None);
        await _rt.Runtime.CreateContainerAsync(sandbox, RuntimeFixture.Container("main", "true"), CancellationToken.None);
        Assert.True(Directory.Exists(config.LogDirectory));
        await _rt.Runtime.RemovePodSandboxAsync(sandbox, CancellationToken.None);
        Assert.True(Directory.Exists(config.LogDirectory));
        Assert.False(PodLogDirectory.IsPodOwned(config.LogDirectory, config.Uid));
    }

    [Theory]
    [InlineData("/var/log/pods/default_web_1234", "1234", true)]
    [InlineData("/var/log/pods/default_web_1234/", "1234", true)]
    [InlineData("/var/log/pods/default_web_12345", "1234", false)]
    [InlineData("/var/log/pods/../pods/default_web_1234", "1234", false)]
    [InlineData("var/log/pods/default_web_1234", "1234", false)]
    [InlineData("/x_1234", "1234", false)]
    [InlineData("/var/log/pods/default_web_", "", false)]
    [InlineData("/etc", "1234", false)]
    public void OnlyKubeletsNamingOfThePodsOwnDirectoryIsRemovable(string dir, string uid, bool owned) =>
        Assert.Equal(owned, PodLogDirectory.IsPodOwned(dir, uid));

    [PrivilegedFact]
    public async Task CtrRunRmLeavesNoLogDirectory()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("hi\n", await CliProcess.RunAsync(_rt, "ctr", "run", "--rm", "localhost/busybox:latest", "echo", "hi"));
        }

        var id = (await CliProcess.RunAsync(_rt, "ctr", "run", "-d", "--name", "kept", "localhost/busybox:latest", "true")).Trim();
        Assert.Single(Directory.GetDirectories(_rt.Logs));
        await CliProcess.RunAsync(_rt, "ctr", "rm", "-f", id);
        Assert.Empty(Directory.GetDirectories(_rt.Logs));
    }

    public void Dispose() => _rt.Dispose();
}
