using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Volumes;
using NodeAgent.Runtime;
using NodeAgent.Tests.Kubelet.Pods;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>
/// kubelet's SyncPod with API-backed volumes and env, over the real runtime and the test API server (node n1's
/// credential): the container reads its configMap and secret files (secret on tmpfs, both read-only) and gets envFrom
/// and secretKeyRef values; a missing config map keeps the pod from getting a sandbox.
/// </summary>
public sealed class ApiPodSyncTests(ApiServerNode node) : IClassFixture<ApiServerNode>, IDisposable
{
    private readonly RuntimeFixture _rt = new();

    public void Dispose() => _rt.Dispose();

    private (PodSyncer Syncer, RecordingEvents Events, PodVolumes Volumes) Syncer(TempDir pods)
    {
        var events = new RecordingEvents(new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System));
        var api = new ApiVolumes(pods.Path, node.Objects(), HostFiles.Instance, events, TimeProvider.System, NullLogger<ApiVolumes>.Instance);
        var volumes = new PodVolumes(pods.Path, HostFiles.Instance, api);
        var syncer = new PodSyncer(_rt.Runtime, _rt.ImageService, new ContainerBackoff(TimeProvider.System), events,
            new PodSandboxFactory(_rt.Logs), TimeProvider.System, NullLogger<PodSyncer>.Instance)
        {
            Volumes = volumes,
        };
        return (syncer, events, volumes);
    }

    [PrivilegedFact]
    public async Task TheContainerSeesItsConfigMapSecretAndEnvFromTheApiServer()
    {
        using var pods = new TempDir("nodeagent-apipods");
        var map = ApiServerNode.Unique("cfg");
        var secret = ApiServerNode.Unique("sec");
        await node.CreateConfigMapAsync(map, new() { ["greeting"] = "hello" });
        await node.CreateSecretAsync(secret, new() { ["password"] = "hunter2"u8.ToArray() });
        var script = "cat /config/greeting; echo; cat /creds/password; echo; echo \"env=$C_greeting/$PASS\"; "
            + "(touch /config/x 2>/dev/null && echo config-writable) || echo config-readonly; "
            + "echo fs=$(awk '$2 == \"/creds\" { print $3 }' /proc/mounts); "
            + "while true; do echo now=$(cat /config/greeting); sleep 0.2; done";
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.TerminationGracePeriodSeconds = 1;
            s.EnableServiceLinks = false;
            s.Volumes =
            [
                new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = map } },
                new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = secret } },
            ];
            var c = s.Containers[0];
            c.Name = "main";
            c.Image = "localhost/busybox:latest";
            c.ImagePullPolicy = "Never";
            c.Command = ["sh", "-c", script];
            c.VolumeMounts = [new V1VolumeMount { Name = "config", MountPath = "/config" }, new V1VolumeMount { Name = "creds", MountPath = "/creds" }];
            c.EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = map }, Prefix = "C_" }];
            c.Env = [new V1EnvVar { Name = "PASS", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = "password" } } }];
        });
        var (syncer, events, volumes) = Syncer(pods);
        var secretDir = volumes.Api!.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[1]);
        try
        {
            var result = await syncer.SyncAsync(pod, CancellationToken.None);
            Assert.Empty(result.Waiting);
            var log = Path.Combine(PodPaths.LogDirectory(_rt.Logs, pod), "main", "0.log");
            await ApiVolumesTests.WaitForAsync(() => File.Exists(log) && File.ReadAllText(log).Contains("fs=", StringComparison.Ordinal));
            var lines = File.ReadAllLines(log).Select(l => l.Split(' ', 4)[3]).Take(5).ToList();
            Assert.Equal(["hello", "hunter2", "env=hello/hunter2", "config-readonly", "fs=tmpfs"], lines);

            // An edit reaches the running container's mount through the ..data swap.
            var edited = await new NodeAgent.Kube.Api.ResourceClient<V1ConfigMap, V1ConfigMapList>(node.Admin, NodeAgent.Kube.Api.KubeResources.ConfigMaps).GetAsync("default", map);
            edited.Data["greeting"] = "bye";
            await node.UpdateConfigMapAsync(edited);
            await volumes.Api.RefreshAsync(CancellationToken.None);
            await ApiVolumesTests.WaitForAsync(() => File.ReadAllText(log).Contains("now=bye", StringComparison.Ordinal));
            Assert.DoesNotContain(events.All, e => e.Reason is "FailedMount" or "Failed");

            await syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
            Assert.False(Directory.Exists(Path.Combine(pods.Path, pod.Metadata.Uid)));
            Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == secretDir);
        }
        finally
        {
            await syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
            while (NodeAgent.Linux.Mounts.Unmount(secretDir))
            {
            }
        }
    }

    [PrivilegedFact]
    public async Task AMissingConfigMapKeepsThePodWithoutASandbox()
    {
        using var pods = new TempDir("nodeagent-apipods");
        var missing = ApiServerNode.Unique("nope");
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.Volumes = [new V1Volume { Name = "config", ConfigMap = new V1ConfigMapVolumeSource { Name = missing } }];
            s.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "config", MountPath = "/config" }];
        });
        var (syncer, events, _) = Syncer(pods);

        var e = await Assert.ThrowsAsync<VolumeException>(() => syncer.SyncAsync(pod, CancellationToken.None));
        Assert.Contains($"configmap \"{missing}\" not found", e.Message);
        Assert.Null(syncer.View(pod).Sandbox);
        Assert.Contains(events.All, x => x.Reason == "FailedMount" && x.Message == $"MountVolume.SetUp failed for volume \"config\" : configmap \"{missing}\" not found");
    }

    [PrivilegedFact]
    public async Task AMissingSecretKeyIsACreateContainerConfigErrorWithKubeletsMessage()
    {
        using var pods = new TempDir("nodeagent-apipods");
        var secret = ApiServerNode.Unique("sec");
        await node.CreateSecretAsync(secret, new() { ["a"] = "1"u8.ToArray() });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.TerminationGracePeriodSeconds = 1;
            var c = s.Containers[0];
            c.Image = "localhost/busybox:latest";
            c.ImagePullPolicy = "Never";
            c.Command = ["sleep", "300"];
            c.Env = [new V1EnvVar { Name = "X", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = "missing" } } }];
        });
        var (syncer, events, _) = Syncer(pods);
        try
        {
            var result = await syncer.SyncAsync(pod, CancellationToken.None);
            var waiting = result.Waiting["c"];
            Assert.Equal("CreateContainerConfigError", waiting.Reason);
            Assert.Equal($"couldn't find key missing in Secret default/{secret}", waiting.Message);
            Assert.Contains(events.All, x => x.Reason == "Failed" && x.Message == $"Error: couldn't find key missing in Secret default/{secret}");
        }
        finally
        {
            await syncer.KillPodAsync(pod, TimeSpan.FromSeconds(1), CancellationToken.None);
        }
    }
}
