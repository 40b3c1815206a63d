using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>Several nodeagent processes on one root at once: every run succeeds and the state stays consistent.</summary>
public sealed class ConcurrentCliTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();

    [PrivilegedFact]
    public async Task ParallelRunsOnOneRootAllSucceedAndCleanUp()
    {
        var runs = Enumerable.Range(0, 6).Select(i =>
            CliProcess.RunAsync(_rt, "ctr", "run", "--rm", "--name", $"par{i}", "localhost/busybox:latest", "echo", $"hello-{i}")).ToList();
        var outputs = await Task.WhenAll(runs);
        for (var i = 0; i < outputs.Length; i++)
        {
            Assert.Equal($"hello-{i}", outputs[i].Trim());
        }

        Assert.Empty(_rt.Runtime.ListContainers());
        Assert.Empty(_rt.Runtime.ListPodSandboxes());
        Assert.Empty(NodeAgent.Linux.Mounts.ListUnder(_rt.Root));
    }

    [PrivilegedFact]
    public async Task ImportWhileRunningKeepsBothConsistent()
    {
        var import = CliProcess.RunAsync(_rt, "images", "import", TestImages.BusyboxDocker);
        var run = CliProcess.RunAsync(_rt, "ctr", "run", "--rm", "localhost/busybox:latest", "echo", "ok");
        var results = await Task.WhenAll(import, run);
        Assert.Contains("localhost/busybox-docker:latest", results[0]);
        Assert.Equal("ok", results[1].Trim());
        Assert.NotNull(_rt.Images.Resolve("localhost/busybox-docker:latest"));
        Assert.NotNull(_rt.Images.Resolve("localhost/busybox:latest"));
    }

    public void Dispose() => _rt.Dispose();
}
