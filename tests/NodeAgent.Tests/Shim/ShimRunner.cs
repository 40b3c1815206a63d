using System.Diagnostics;
using System.Text.Json;
using NodeAgent.ContainerSpec;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Shim;

/// <summary>Runs the real AOT shim on a bundle and waits for the container to end.</summary>
public sealed class ShimRunner : IDisposable
{
    private readonly TempDir _bundle = new("nodeagent-bundle");

    public string Bundle => _bundle.Path;

    public string LogPath => _bundle.Combine("log", "0.log");

    public static ContainerSpec.ContainerSpec Spec(string rootfs, params string[] args) => new()
    {
        Id = "test",
        Rootfs = rootfs,
        Hostname = "testbox",
        Process = new ProcessSpec
        {
            Args = [.. args],
            Env = ["PATH=/bin", "HOME=/root"],
            Capabilities = [.. NodeAgent.Linux.Capabilities.DefaultSet],
        },
        Namespaces = [new() { Type = "pid" }, new() { Type = "net" }, new() { Type = "ipc" }, new() { Type = "uts" }, new() { Type = "mnt" }],
        Mounts =
        [
            new() { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid", "noexec", "nodev"] },
            new() { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            new() { Destination = "/dev/pts", Type = "devpts", Source = "devpts", Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            new() { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            new() { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
        ],
        MaskedPaths = [.. NodeAgent.Runtime.Containers.ContainerSpecBuilder.MaskedPaths],
        ReadonlyPaths = [.. NodeAgent.Runtime.Containers.ContainerSpecBuilder.ReadonlyPaths],
    };

    /// <summary>Runs the container to completion; returns the shim's reply and the recorded exit status.</summary>
    public async Task<(ShimReply Reply, ExitStatus Exit)> RunAsync(ContainerSpec.ContainerSpec spec, Action<int>? onStarted = null)
    {
        spec.Log = new LogSpec { Path = LogPath };
        File.WriteAllBytes(Path.Combine(Bundle, BundleFiles.Config), BundleJson.Write(spec));
        var psi = new ProcessStartInfo(RepoPaths.ShimPath) { RedirectStandardOutput = true, RedirectStandardInput = true };
        psi.ArgumentList.Add("run");
        psi.ArgumentList.Add(Bundle);
        using var shim = Process.Start(psi)!;
        shim.StandardInput.Close();
        var line = await shim.StandardOutput.ReadLineAsync();
        var reply = BundleJson.ReadShimReply(System.Text.Encoding.UTF8.GetBytes(line ?? "{}"), "shim reply");
        if (reply.Error is null)
        {
            onStarted?.Invoke(reply.Pid);
        }

        await shim.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var exit = BundleJson.ReadExitStatus(File.ReadAllBytes(Path.Combine(Bundle, BundleFiles.Exit)), "exit.json");
        return (reply, exit);
    }

    /// <summary>The container's stdout lines, from the CRI log.</summary>
    public IReadOnlyList<string> Stdout() => LogLines("stdout");

    public IReadOnlyList<string> Stderr() => LogLines("stderr");

    private List<string> LogLines(string stream) => File.Exists(LogPath)
        ? File.ReadAllLines(LogPath).Select(l => l.Split(' ', 4)).Where(p => p.Length == 4 && p[1] == stream).Select(p => p[3]).ToList()
        : [];

    public void Dispose() => _bundle.Dispose();
}
