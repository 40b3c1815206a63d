using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Runtime;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>
/// volumeMounts[].subPath end to end with the real runtime: the CVE-2017-1002101 attack (a container plants a symlink
/// to / in an emptyDir, the next container mounts it by subPath) fails with CreateContainerConfigError and mounts
/// nothing; a legitimate subPath (created when missing, through a symlink that stays inside) works, and its staging
/// mount goes with the container.
/// </summary>
public sealed class SubPathTests : IDisposable
{
    private readonly RuntimeFixture _rt = new();
    private readonly TempDir _pods = new("nodeagent-pods");
    private readonly PodEventLog _events = new(NullLogger<PodEventLog>.Instance, TimeProvider.System);
    private readonly PodSyncer _syncer;

    public SubPathTests()
    {
        _syncer = new PodSyncer(_rt.Runtime, _rt.ImageService, new ContainerBackoff(TimeProvider.System), _events,
            new PodSandboxFactory(_rt.Logs), TimeProvider.System, NullLogger<PodSyncer>.Instance)
        {
            Volumes = new PodVolumes(_pods.Path, HostFiles.Instance),
        };
    }

    private static V1Pod Pod(string name, string[] initScript, string subPath, string[] mainCommand) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            RestartPolicy = "Never",
            TerminationGracePeriodSeconds = 1,
            Volumes = [new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() }],
            InitContainers =
            [
                new V1Container
                {
                    Name = "planter", Image = "localhost/busybox:latest", ImagePullPolicy = "Never", Command = initScript,
                    VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/data" }],
                },
            ],
            Containers =
            [
                new V1Container
                {
                    Name = "victim", Image = "localhost/busybox:latest", ImagePullPolicy = "Never", Command = mainCommand,
                    VolumeMounts = [new V1VolumeMount { Name = "data", MountPath = "/mnt", SubPath = subPath }],
                },
            ],
        },
    };

    private string EmptyDir(V1Pod pod) => Path.Combine(_pods.Path, pod.Metadata.Uid, "volumes", "kubernetes.io~empty-dir", "data");

    /// <summary>Runs the init container to completion, then syncs again so the main container is created.</summary>
    private async Task<PodSyncResult> SyncPastInitAsync(V1Pod pod)
    {
        await _syncer.SyncAsync(pod, CancellationToken.None);
        var init = _syncer.View(pod).Attempts("planter").Single();
        var exited = await _rt.WaitAsync(init.Id);
        Assert.Equal(0, exited.ExitCode);
        return await _syncer.SyncAsync(pod, CancellationToken.None);
    }

    [PrivilegedFact]
    public async Task A_symlink_to_the_host_root_planted_in_an_emptyDir_is_not_mounted_by_subPath()
    {
        var hostRoot = MountInfo.Read().Single(m => m.MountPoint == "/");
        var pod = Pod("attack", ["ln", "-s", "/", "/data/x"], "x", ["sleep", "300"]);

        var result = await SyncPastInitAsync(pod);

        Assert.Equal("/", new FileInfo(Path.Combine(EmptyDir(pod), "x")).LinkTarget); // the attack was set up
        var waiting = result.Waiting["victim"];
        Assert.Equal("CreateContainerConfigError", waiting.Reason);
        Assert.StartsWith("failed to prepare subPath \"x\" for volumeMount \"data\" of container \"victim\": ", waiting.Message);
        Assert.DoesNotContain(_pods.Path, waiting.Message); // host paths stay out of the status, as in kubelet
        Assert.Contains(_events.For(pod.Metadata.Uid), e => e.Reason == "Failed" && e.Message.Contains("subPath \"x\"", StringComparison.Ordinal));
        Assert.Empty(_syncer.View(pod).Attempts("victim"));

        var status = PodStatusBuilder.Build(pod, _syncer.View(pod), result.Waiting, "127.0.0.1", DateTime.UtcNow, DateTime.UtcNow);
        Assert.Equal("CreateContainerConfigError", status.ContainerStatuses.Single().State.Waiting.Reason);

        // Nothing of the host's root filesystem is mounted by the runtime, and no staging path is left.
        Assert.DoesNotContain(MountInfo.Read(), m => m.MountPoint.StartsWith(_rt.Root + "/", StringComparison.Ordinal)
            && m.Device == hostRoot.Device && m.Root == hostRoot.Root);
        Assert.DoesNotContain(MountInfo.Read(), m => m.MountPoint.Contains("/subpaths/", StringComparison.Ordinal));
        var containerDirs = Directory.GetDirectories(Path.Combine(_rt.Root, "containers"));
        Assert.Single(containerDirs); // the init container's; the failed create left nothing
        Assert.False(Directory.Exists(Path.Combine(containerDirs[0], "subpaths")));

        await _syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
    }

    [PrivilegedFact]
    public async Task A_subPath_through_a_symlink_inside_the_volume_is_created_mounted_and_unmounted_on_removal()
    {
        var pod = Pod("legit", ["sh", "-c", "mkdir /data/real && ln -s real /data/link"], "link/made/here",
            ["sh", "-c", "echo hello > /mnt/greeting && grep -q ' /mnt ' /proc/self/mountinfo"]);

        var result = await SyncPastInitAsync(pod);

        Assert.Empty(result.Waiting);
        var victim = _syncer.View(pod).Attempts("victim").Single();
        var staging = Path.Combine(_rt.Root, "containers", victim.Id, "subpaths", "0");
        Assert.Contains(MountInfo.Read(), m => m.MountPoint == staging);
        Assert.Equal(0, (await _rt.WaitAsync(victim.Id)).ExitCode);

        // The missing directories were made inside the volume, where the inside symlink leads.
        Assert.Equal("hello", File.ReadAllText(Path.Combine(EmptyDir(pod), "real", "made", "here", "greeting")).Trim());

        await _rt.Runtime.RemoveContainerAsync(victim.Id, CancellationToken.None);
        Assert.DoesNotContain(MountInfo.Read(), m => m.MountPoint.StartsWith(Path.Combine(_rt.Root, "containers", victim.Id), StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(EmptyDir(pod), "real", "made", "here", "greeting"))); // removal never deletes through the mount

        await _syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
    }

    public void Dispose()
    {
        try
        {
            _rt.Dispose();
        }
        finally
        {
            _pods.Dispose();
        }
    }

    /// <summary>One line of /proc/self/mountinfo: the device, the root of the mount within it, where it is mounted.</summary>
    private sealed record MountInfo(string Device, string Root, string MountPoint)
    {
        public static List<MountInfo> Read() =>
            File.ReadLines("/proc/self/mountinfo")
                .Select(l => l.Split(' '))
                .Where(f => f.Length > 4)
                .Select(f => new MountInfo(f[2], Unescape(f[3]), Unescape(f[4])))
                .ToList();

        private static string Unescape(string s) => s.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
    }
}
