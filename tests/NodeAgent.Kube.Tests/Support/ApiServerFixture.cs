using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.Support;

/// <summary>
/// A test API server in this process, with kubeconfigs for an admin and nodes n1, n2, in a temporary directory
/// removed afterwards. It runs no controllers, so pods stay where the tests put them (a scheduled pod would need a
/// kubelet to finish its deletion); ControllerTests start servers of their own with the controllers.
/// </summary>
public sealed class ApiServerFixture : IAsyncLifetime
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("nodeagent-kube-test-").FullName;

    public TestApiServerHost Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = Directory, Nodes = ["n1", "n2"], RunControllers = false });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>Starts another server of its own (for tests that stop, restart or compact it).</summary>
    public static async Task<(TestApiServerHost Server, string Dir)> StartPrivateAsync(TimeSpan? bookmarkInterval = null, int historyLimit = 10000, TimeSpan? nodeGrace = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("nodeagent-kube-test-").FullName;
        var server = await TestApiServerHost.StartAsync(new TestApiServerOptions
        {
            Directory = dir,
            Nodes = ["n1"],
            BookmarkInterval = bookmarkInterval ?? TimeSpan.FromSeconds(60),
            HistoryLimit = historyLimit,
            NodeMonitorGracePeriod = nodeGrace ?? TimeSpan.FromSeconds(40),
        });
        return (server, dir);
    }
}
