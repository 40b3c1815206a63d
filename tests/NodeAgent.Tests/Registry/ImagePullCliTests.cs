using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Registry;

/// <summary><c>nodeagent images pull</c> and <c>images prune</c> as a user runs them.</summary>
public sealed class ImagePullCliTests(RegistryFixture registry) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private readonly TempDir _tmp = new("nodeagent-cli-pull");

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(RuntimeFixture rt, params string[] args)
    {
        using var p = CliProcess.Start(rt, args);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(120));
        return (p.ExitCode, await stdout, await stderr);
    }

    [PrivilegedFact]
    public async Task PullsWithProgressListsAndPrunes()
    {
        var (code, stdout, stderr) = await RunAsync(_rt, "images", "pull", "--plain-http", $"{registry.Server.Host}/app:multi");

        Assert.True(code == 0, stderr);
        Assert.Matches($@"^pulled {registry.Server.Host}/app:multi \(sha256:[0-9a-f]{{64}}\), \d+ bytes \(\d+ downloaded\) in [0-9.]+ s", stdout);
        Assert.Contains("3/3 layers, done", stderr);
        Assert.Contains($"{registry.Server.Host}/app", (await RunAsync(_rt, "images", "ls")).Stdout);

        var prune = await RunAsync(_rt, "images", "prune");
        Assert.True(prune.Code == 0, prune.Stderr);
        Assert.Contains($"removed {registry.Server.Host}/app:multi", prune.Stdout);
        Assert.Contains("removed localhost/busybox:latest", prune.Stdout); // no container uses it either
        Assert.DoesNotContain("app", (await RunAsync(_rt, "images", "ls")).Stdout);
    }

    [PrivilegedFact]
    public async Task RegistryConfigMirrorAndCredentialErrorsAreOneClearLine()
    {
        var config = _tmp.Combine("registries.yaml");
        await File.WriteAllTextAsync(config, $"mirrors:\n  example.invalid:\n    endpoint: [\"http://{registry.Server.Host}\"]\n");
        var viaMirror = await RunAsync(_rt, "images", "pull", "--registry-config", config, "example.invalid/app:shared");
        Assert.True(viaMirror.Code == 0, viaMirror.Stderr);

        await File.WriteAllTextAsync(config, "mirrors:\n  x:\n    endpoints: []\n");
        var bad = await RunAsync(_rt, "images", "pull", "--registry-config", config, "busybox");
        Assert.Equal(125, bad.Code);
        Assert.Equal($"nodeagent: {config}:3:16: mirrors.x.endpoints: unknown key \"mirrors.x.endpoints\"", bad.Stderr.Trim());

        var creds = await RunAsync(_rt, "images", "pull", "--plain-http", "--creds", "nocolon", $"{registry.Server.Host}/app:shared");
        Assert.Equal(125, creds.Code);
        Assert.Contains("--creds: expected user:password", creds.Stderr);

        var missing = await RunAsync(_rt, "images", "pull", "--plain-http", "-q", $"{registry.Server.Host}/app:gone");
        Assert.Equal(125, missing.Code);
        Assert.StartsWith($"nodeagent: pull {registry.Server.Host}/app:gone: registry {registry.Server.Host}: manifest app:gone: 404", missing.Stderr);
    }

    [PrivilegedFact]
    public async Task AgentRejectsInvalidImageGcThresholds()
    {
        var (code, _, stderr) = await RunAsync(_rt, "agent", "--image-gc-high-threshold", "70", "--image-gc-low-threshold", "90");
        Assert.Equal(125, code);
        // The options model names the flag and value, and the threshold it conflicts with.
        Assert.Contains("--image-gc-low-threshold \"90\"", stderr);
        Assert.Contains("70", stderr);
    }

    public void Dispose()
    {
        _tmp.Dispose();
        _rt.Dispose();
    }
}
