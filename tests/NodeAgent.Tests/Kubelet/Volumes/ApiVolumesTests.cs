using System.Text;
using k8s.Models;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>configMap and downwardAPI volumes of node n1 against the test API server, read with the node's credential:
/// real files under the pods directory, kubelet's FailedMount messages, and the Node authorizer.</summary>
public class ApiVolumesTests(ApiServerNode node) : IClassFixture<ApiServerNode>
{
    private static V1Volume ConfigMapVolume(string volume, string configMap, bool? optional = null, IList<V1KeyToPath>? items = null, int? defaultMode = null) =>
        new() { Name = volume, ConfigMap = new V1ConfigMapVolumeSource { Name = configMap, Optional = optional, Items = items, DefaultMode = defaultMode } };

    [Fact]
    public async Task ConfigMapEditReachesTheMountedFileThroughTheDataSwap()
    {
        var name = ApiServerNode.Unique("cfg");
        var map = await node.CreateConfigMapAsync(name, new() { ["app.conf"] = "v1", ["other"] = "x" });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        var (volumes, _) = node.Volumes();

        await volumes.SetUpAsync(pod, CancellationToken.None);
        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        Assert.Equal(Path.Combine(node.PodsRoot, pod.Metadata.Uid, "volumes", "kubernetes.io~configmap", "config"), dir);
        Assert.True(volumes.IsSetUp(pod.Metadata.Uid, "config"));
        Assert.Equal("v1", File.ReadAllText(Path.Combine(dir, "app.conf")));
        var before = new FileInfo(Path.Combine(dir, "..data")).LinkTarget;

        map.Data = new Dictionary<string, string> { ["app.conf"] = "v2" };
        await node.UpdateConfigMapAsync(map);
        await volumes.RefreshAsync(CancellationToken.None);

        Assert.Equal("v2", File.ReadAllText(Path.Combine(dir, "app.conf")));
        Assert.NotEqual(before, new FileInfo(Path.Combine(dir, "..data")).LinkTarget);
        Assert.False(Directory.Exists(Path.Combine(dir, before!)));
        Assert.False(Path.Exists(Path.Combine(dir, "other")));
        volumes.TearDown(pod.Metadata.Uid);
        Assert.False(volumes.IsSetUp(pod.Metadata.Uid, "config"));
    }

    [Fact]
    public async Task TheRefreshLoopWritesAnEditWithoutAPodSync()
    {
        var name = ApiServerNode.Unique("cfg");
        var map = await node.CreateConfigMapAsync(name, new() { ["k"] = "before" });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        var (volumes, _) = node.Volumes(refresh: TimeSpan.FromMilliseconds(50));
        await volumes.SetUpAsync(pod, CancellationToken.None);
        var file = Path.Combine(volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]), "k");

        using var stop = new CancellationTokenSource();
        var loop = volumes.RunAsync(stop.Token);
        map.Data["k"] = "after";
        await node.UpdateConfigMapAsync(map);
        await WaitForAsync(() => File.ReadAllText(file) == "after");
        await stop.CancelAsync();
        await loop;
        Assert.Equal("after", File.ReadAllText(file));
    }

    [Fact]
    public async Task ADeletedConfigMapKeepsTheFilesOfAVolumeSetUpBefore()
    {
        var name = ApiServerNode.Unique("cfg");
        await node.CreateConfigMapAsync(name, new() { ["k"] = "kept" });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        var (volumes, events) = node.Volumes();
        await volumes.SetUpAsync(pod, CancellationToken.None);

        await new NodeAgent.Kube.Api.ResourceClient<V1ConfigMap, V1ConfigMapList>(node.Admin, NodeAgent.Kube.Api.KubeResources.ConfigMaps).DeleteAsync("default", name);
        // A pod already running keeps its volume: its sync does not wait on the API server, the refresh fails
        // (FailedMount) and the files stay.
        await volumes.SetUpAsync(pod, CancellationToken.None);
        await volumes.RefreshAsync(CancellationToken.None);

        Assert.Equal("kept", File.ReadAllText(Path.Combine(volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]), "k")));
        Assert.Equal(1, events.All.Count(x => x.Reason == "FailedMount" && x.Message == $"MountVolume.SetUp failed for volume \"config\" : configmap \"{name}\" not found"));
        volumes.TearDown(pod.Metadata.Uid);
    }

    [Fact]
    public async Task NotFoundIsNeverCachedAndAReadObjectIsKeptForItsTtl()
    {
        var name = ApiServerNode.Unique("late");
        // A pod of n1 naming it lets n1 read it (Node authorizer).
        await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        var objects = new ApiPodObjects(node.Node, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<ApiPodObjects>.Instance);
        Assert.Null(await objects.GetConfigMapAsync("default", name, CancellationToken.None));

        var map = await node.CreateConfigMapAsync(name, new() { ["k"] = "v" });
        // The default one-minute TTL does not keep "not found"…
        Assert.Equal("v", (await objects.GetConfigMapAsync("default", name, CancellationToken.None))!.Data["k"]);

        // …but does keep what it read: an edit is seen once the TTL has passed.
        map.Data["k"] = "v2";
        await node.UpdateConfigMapAsync(map);
        Assert.Equal("v", (await objects.GetConfigMapAsync("default", name, CancellationToken.None))!.Data["k"]);
    }

    [Fact]
    public async Task AMissingConfigMapIsAFailedMountWithKubeletsMessageAndAnOptionalOneIsEmpty()
    {
        var missing = ApiServerNode.Unique("nope");
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes =
        [
            ConfigMapVolume("required", missing),
            ConfigMapVolume("maybe", missing, optional: true),
        ]);
        var (volumes, events) = node.Volumes();

        var e = await Assert.ThrowsAsync<VolumeException>(() => volumes.SetUpAsync(pod, CancellationToken.None));
        Assert.Equal($"unmounted volumes=[required]: MountVolume.SetUp failed for volume \"required\" : configmap \"{missing}\" not found", e.Message);
        Assert.Contains(events.All, x => x.Reason == "FailedMount" && x.Message == $"MountVolume.SetUp failed for volume \"required\" : configmap \"{missing}\" not found");
        Assert.False(volumes.IsSetUp(pod.Metadata.Uid, "required"));
        Assert.True(volumes.IsSetUp(pod.Metadata.Uid, "maybe"));
        var maybe = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[1]);
        Assert.Equal(["..data"], Directory.EnumerateFileSystemEntries(maybe).Select(p => Path.GetFileName(p)!).Where(n => !n.StartsWith("..2", StringComparison.Ordinal)).ToArray());
        volumes.TearDown(pod.Metadata.Uid);
    }

    [Fact]
    public async Task ItemsPickKeysWithPathsAndModesAndAMissingKeyFailsUnlessOptional()
    {
        var name = ApiServerNode.Unique("cfg");
        await node.CreateConfigMapAsync(name, new() { ["a"] = "A", ["b"] = "B" });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes =
        [
            ConfigMapVolume("picked", name, defaultMode: 256, items: [new V1KeyToPath { Key = "a", Path = "dir/a.txt", Mode = 384 }, new V1KeyToPath { Key = "b", Path = "b" }]),
            ConfigMapVolume("nokey", name, items: [new V1KeyToPath { Key = "zzz", Path = "z" }]),
        ]);
        var (volumes, events) = node.Volumes();

        var e = await Assert.ThrowsAsync<VolumeException>(() => volumes.SetUpAsync(pod, CancellationToken.None));
        Assert.Contains("MountVolume.SetUp failed for volume \"nokey\" : configmap references non-existent config key: zzz", e.Message);
        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        Assert.Equal("A", File.ReadAllText(Path.Combine(dir, "dir", "a.txt")));
        Assert.Equal("B", File.ReadAllText(Path.Combine(dir, "b")));
        Assert.False(Path.Exists(Path.Combine(dir, "a")));
        var data = Path.Combine(dir, new FileInfo(Path.Combine(dir, "..data")).LinkTarget!);
        Assert.Equal((UnixFileMode)384, File.GetUnixFileMode(Path.Combine(data, "dir", "a.txt")));
        Assert.Equal((UnixFileMode)256, File.GetUnixFileMode(Path.Combine(data, "b")));
        Assert.Contains(events.All, x => x.Reason == "FailedMount");
        volumes.TearDown(pod.Metadata.Uid);
    }

    [Fact]
    public async Task TheNodeReadsAConfigMapOnlyOnceAPodBoundToItReferencesIt()
    {
        var name = ApiServerNode.Unique("private");
        await node.CreateConfigMapAsync(name, new() { ["k"] = "v" });
        // Referenced only by a pod of n2: n1's credential may not read it.
        await node.CreatePodAsync(ApiServerNode.Unique("other"), s => s.Volumes = [ConfigMapVolume("config", name)], node: "n2");
        var local = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "not-in-server", NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
            Spec = new V1PodSpec { NodeName = "n1", Containers = [new V1Container { Name = "c" }], Volumes = [ConfigMapVolume("config", name)] },
        };
        var (volumes, events) = node.Volumes();

        var e = await Assert.ThrowsAsync<VolumeException>(() => volumes.SetUpAsync(local, CancellationToken.None));
        Assert.Contains("no relationship found between node 'n1' and this object", e.Message);
        Assert.Contains(events.All, x => x.Reason == "FailedMount" && x.Message.Contains("forbidden", StringComparison.OrdinalIgnoreCase));

        var bound = await node.CreatePodAsync(ApiServerNode.Unique("mine"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        await volumes.SetUpAsync(bound, CancellationToken.None);
        Assert.Equal("v", File.ReadAllText(Path.Combine(volumes.DirectoryOf(bound.Metadata.Uid, bound.Spec.Volumes[0]), "k")));
        volumes.TearDown(bound.Metadata.Uid);
        volumes.TearDown(local.Metadata.Uid);
    }

    [Fact]
    public async Task DownwardApiVolumeWritesFieldsAndFollowsLabelChanges()
    {
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.Containers[0].Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") } };
            s.Volumes =
            [
                new V1Volume
                {
                    Name = "info",
                    DownwardAPI = new V1DownwardAPIVolumeSource
                    {
                        Items =
                        [
                            new V1DownwardAPIVolumeFile { Path = "labels", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.labels" } },
                            new V1DownwardAPIVolumeFile { Path = "name", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.name" } },
                            new V1DownwardAPIVolumeFile { Path = "mem", ResourceFieldRef = new V1ResourceFieldSelector { ContainerName = "c", Resource = "limits.memory", Divisor = new("1Mi") } },
                        ],
                    },
                },
            ];
        }, labels: new Dictionary<string, string> { ["b"] = "2", ["a"] = "say \"hi\"" });
        var (volumes, _) = node.Volumes();

        await volumes.SetUpAsync(pod, CancellationToken.None);
        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        Assert.EndsWith("kubernetes.io~downward-api/info", dir);
        Assert.Equal("a=\"say \\\"hi\\\"\"\nb=\"2\"", File.ReadAllText(Path.Combine(dir, "labels")));
        Assert.Equal(pod.Metadata.Name, File.ReadAllText(Path.Combine(dir, "name")));
        Assert.Equal("64", File.ReadAllText(Path.Combine(dir, "mem")));

        // The next sync hands over the updated pod; the refresh writes it.
        pod.Metadata.Labels["b"] = "3";
        await volumes.SetUpAsync(pod, CancellationToken.None);
        await volumes.RefreshAsync(CancellationToken.None);
        Assert.Equal("a=\"say \\\"hi\\\"\"\nb=\"3\"", File.ReadAllText(Path.Combine(dir, "labels")));
        volumes.TearDown(pod.Metadata.Uid);
    }

    [Fact]
    public async Task AHostileKeyFailsTheVolumeAndWritesNothingOutsideIt()
    {
        var name = ApiServerNode.Unique("cfg");
        await node.CreateConfigMapAsync(name, new() { ["ok"] = "fine" });
        // The API server validates keys; a pod item path is the pod's and is checked by the writer in any case.
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        pod.Spec.Volumes[0].ConfigMap.Items = [new V1KeyToPath { Key = "ok", Path = "../../../escape" }];
        var (volumes, _) = node.Volumes();

        var e = await Assert.ThrowsAsync<VolumeException>(() => volumes.SetUpAsync(pod, CancellationToken.None));
        Assert.Contains("invalid path \"../../../escape\" for volume config: must not start with '..'", e.Message);
        Assert.False(File.Exists(Path.Combine(node.PodsRoot, pod.Metadata.Uid, "escape")));
        Assert.False(File.Exists(Path.Combine(node.PodsRoot, pod.Metadata.Uid, "volumes", "escape")));
        volumes.TearDown(pod.Metadata.Uid);
    }

    [NodeAgent.Tests.Support.PrivilegedFact]
    public async Task FsGroupOwnsTheFilesWithGroupRead()
    {
        var name = ApiServerNode.Unique("cfg");
        await node.CreateConfigMapAsync(name, new() { ["k"] = "v" });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.SecurityContext = new V1PodSecurityContext { FsGroup = 4321 };
            s.Volumes = [ConfigMapVolume("config", name, defaultMode: 256, items: [new V1KeyToPath { Key = "k", Path = "sub/k" }])];
        });
        var (volumes, _) = node.Volumes();
        await volumes.SetUpAsync(pod, CancellationToken.None);

        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        var data = Path.Combine(dir, new FileInfo(Path.Combine(dir, "..data")).LinkTarget!);
        Assert.Equal((UnixFileMode)288, File.GetUnixFileMode(Path.Combine(data, "sub", "k"))); // 0440
        Assert.True(File.GetUnixFileMode(Path.Combine(data, "sub")).HasFlag(UnixFileMode.SetGroup));
        Assert.Equal("4321 4321 4321", await StatGroupsAsync(data, Path.Combine(data, "sub"), Path.Combine(data, "sub", "k")));

        // Unchanged content and group: the refresh rewrites nothing.
        var before = new FileInfo(Path.Combine(dir, "..data")).LinkTarget;
        await volumes.RefreshAsync(CancellationToken.None);
        Assert.Equal(before, new FileInfo(Path.Combine(dir, "..data")).LinkTarget);
        volumes.TearDown(pod.Metadata.Uid);
    }

    private static async Task<string> StatGroupsAsync(params string[] paths)
    {
        var start = new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%g", .. paths]) { RedirectStandardOutput = true };
        using var stat = System.Diagnostics.Process.Start(start)!;
        var output = await stat.StandardOutput.ReadToEndAsync();
        await stat.WaitForExitAsync();
        return string.Join(' ', output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [NodeAgent.Tests.Support.PrivilegedFact] // the projected volume mounts a tmpfs
    public async Task NullEntriesInASpecFailTheVolumeNamingWhatIsWrong()
    {
        var name = ApiServerNode.Unique("cfg");
        await node.CreateConfigMapAsync(name, new() { ["k"] = "v" });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes = [ConfigMapVolume("config", name)]);
        pod.Spec.Volumes[0].ConfigMap.Items = [null!, new V1KeyToPath { Key = "k", Path = null! }];
        pod.Spec.Volumes.Add(new V1Volume { Name = "proj", Projected = new V1ProjectedVolumeSource { Sources = [null!] } });
        var (volumes, _) = node.Volumes();

        var e = await Assert.ThrowsAsync<VolumeException>(() => volumes.SetUpAsync(pod, CancellationToken.None));
        Assert.Equal("unmounted volumes=[config]: MountVolume.SetUp failed for volume \"config\" : invalid path \"\" for volume config: must not be empty", e.Message);
        Assert.True(volumes.IsSetUp(pod.Metadata.Uid, "proj"));
        volumes.TearDown(pod.Metadata.Uid);
    }

    internal static async Task WaitForAsync(Func<bool> condition)
    {
        // Polls a file the refresh loop rewrites; the loop has no notification of its own to wait on.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
