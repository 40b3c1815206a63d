using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime;

/// <summary>
/// CreateContainer with subPath mounts on the real kernel: a file subPath is mounted as a file, and every failure
/// after a staging mount was made (a later subPath that escapes, a later configuration error) unmounts it again.
/// </summary>
public sealed class SubPathMountsTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private readonly TempDir _volume = new("nodeagent-volume");

    private string ContainersDir => Path.Combine(_rt.Root, "containers");

    private List<string> MountsUnderContainers() => [.. Mounts.ListUnder(ContainersDir)];

    [PrivilegedFact]
    public async Task A_file_subPath_is_mounted_as_that_file()
    {
        File.WriteAllText(_volume.Combine("app.conf"), "setting=1\n");
        var config = RuntimeFixture.Container("main", "cat", "/etc/app.conf") with
        {
            Mounts = [new VolumeMount(_volume.Path, "/etc/app.conf", ReadOnly: true) { SubPath = "app.conf", Name = "config" }],
        };

        var (_, id) = await _rt.StartAsync("filesub", config);

        Assert.Equal(0, (await _rt.WaitAsync(id)).ExitCode);
        Assert.Equal(["setting=1"], _rt.Stdout(id));
        Assert.Contains(Path.Combine(ContainersDir, id, "subpaths", "0"), MountsUnderContainers());
    }

    [PrivilegedFact]
    public async Task A_later_subPath_that_escapes_undoes_the_staging_mounts_already_made()
    {
        Directory.CreateDirectory(_volume.Combine("good"));
        File.CreateSymbolicLink(_volume.Combine("bad"), "/etc");
        var config = RuntimeFixture.Container("main", "true") with
        {
            Mounts =
            [
                new VolumeMount(_volume.Path, "/good") { SubPath = "good", Name = "data" },
                new VolumeMount(_volume.Path, "/bad") { SubPath = "bad", Name = "data" },
            ],
        };
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("escape"), CancellationToken.None);

        var e = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.CreateContainerAsync(sandbox, config, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.CreateContainerConfigError, e.Kind);
        Assert.Equal("failed to prepare subPath \"bad\" for volumeMount \"data\" of container \"main\": "
            + "it resolves outside the volume (an absolute symlink, or one that climbs out)", e.Message);
        Assert.Equal(ErrnoNames.EXDEV, Assert.IsType<LinuxException>(e.InnerException).Errno);
        Assert.Empty(MountsUnderContainers());
        Assert.Empty(Directory.Exists(ContainersDir) ? Directory.GetDirectories(ContainersDir) : []);
    }

    [PrivilegedFact]
    public async Task A_configuration_error_after_the_subPaths_unmounts_them_and_keeps_the_volume()
    {
        Directory.CreateDirectory(_volume.Combine("keep"));
        File.WriteAllText(_volume.Combine("keep", "data"), "precious");
        var config = RuntimeFixture.Container("main", "true") with
        {
            Mounts = [new VolumeMount(_volume.Path, "/keep") { SubPath = "keep", Name = "data" }],
            Security = new ContainerSecurity { AddCapabilities = ["CAP_NOT_A_CAPABILITY"] },
        };
        var sandbox = await _rt.Runtime.RunPodSandboxAsync(_rt.Pod("late"), CancellationToken.None);

        var e = await Assert.ThrowsAsync<RuntimeException>(() => _rt.Runtime.CreateContainerAsync(sandbox, config, CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.CreateContainerError, e.Kind);
        Assert.Empty(MountsUnderContainers());
        Assert.Empty(Directory.GetDirectories(ContainersDir));
        Assert.Equal("precious", File.ReadAllText(_volume.Combine("keep", "data")));
    }

    public void Dispose()
    {
        try
        {
            _rt.Dispose();
        }
        finally
        {
            _volume.Dispose();
        }
    }
}
