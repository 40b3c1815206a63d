using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kubelet.Volumes;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>Secret and projected volumes on a real tmpfs (root): secret content, the service-account token from the
/// TokenRequest API accepted by TokenReview, kube-root-ca.crt, and the unmount when the pod goes.</summary>
public class MemoryVolumesTests(ApiServerNode node) : IClassFixture<ApiServerNode>
{
    [PrivilegedFact]
    public async Task ASecretVolumeIsOnTmpfsAndIsUnmountedWithThePod()
    {
        var name = ApiServerNode.Unique("creds");
        await node.CreateSecretAsync(name, new() { ["password"] = "s3cret"u8.ToArray() });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes =
            [new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = name, DefaultMode = 256 } }]);
        var (volumes, _) = node.Volumes();
        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        try
        {
            await volumes.SetUpAsync(pod, CancellationToken.None);
            Assert.EndsWith("kubernetes.io~secret/creds", dir);
            Assert.Equal("tmpfs", FsType(dir));
            Assert.Equal("s3cret", File.ReadAllText(Path.Combine(dir, "password")));
            Assert.Equal((UnixFileMode)256, File.GetUnixFileMode(Path.Combine(dir, new FileInfo(Path.Combine(dir, "..data")).LinkTarget!, "password")));

            // A refresh (and a second sync) mounts nothing more.
            await volumes.RefreshAsync(CancellationToken.None);
            await volumes.SetUpAsync(pod, CancellationToken.None);
            Assert.Equal(1, MountCount(dir));

            volumes.TearDown(pod.Metadata.Uid);
            Assert.Null(FsType(dir));
        }
        finally
        {
            while (Mounts.Unmount(dir))
            {
            }
        }
    }

    [PrivilegedFact]
    public async Task AnAgentRestartedSinceStillUnmountsAndRemovesThePodsSecretVolume()
    {
        var name = ApiServerNode.Unique("creds");
        await node.CreateSecretAsync(name, new() { ["k"] = "v"u8.ToArray() });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.Volumes = [new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = name } }];
            s.Containers[0].VolumeMounts = [new V1VolumeMount { Name = "creds", MountPath = "/creds" }];
        });
        var (before, _) = node.Volumes();
        var dir = before.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        try
        {
            await before.SetUpAsync(pod, CancellationToken.None);
            Assert.Equal("tmpfs", FsType(dir));

            // A new agent knows nothing of the pod; removing it (orphan clean-up) unmounts what the old one mounted.
            var (after, _) = node.Volumes();
            var podVolumes = new NodeAgent.Kubelet.Pods.PodVolumes(node.PodsRoot, NodeAgent.Runtime.HostFiles.Instance, after);
            podVolumes.Remove(pod.Metadata.Uid);
            Assert.Null(FsType(dir));
            Assert.False(Directory.Exists(podVolumes.PodDirectory(pod.Metadata.Uid)));
        }
        finally
        {
            while (Mounts.Unmount(dir))
            {
            }
        }
    }

    [PrivilegedFact]
    public async Task AMissingSecretLeavesNoTmpfsAndNamesTheSecret()
    {
        var missing = ApiServerNode.Unique("gone");
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Volumes =
            [new V1Volume { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = missing } }]);
        var (volumes, events) = node.Volumes();
        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);

        var e = await Assert.ThrowsAsync<VolumeException>(() => volumes.SetUpAsync(pod, CancellationToken.None));
        Assert.Equal($"unmounted volumes=[creds]: MountVolume.SetUp failed for volume \"creds\" : secret \"{missing}\" not found", e.Message);
        Assert.Contains(events.All, x => x.Reason == "FailedMount" && x.Message.EndsWith($"secret \"{missing}\" not found", StringComparison.Ordinal));
        Assert.Null(FsType(dir));
    }

    [PrivilegedFact]
    public async Task AProjectedTokenIsBoundToThePodAndAcceptedByTokenReview()
    {
        var account = ApiServerNode.Unique("robot");
        await node.CreateServiceAccountAsync(account);
        var ca = "-----BEGIN CERTIFICATE-----\nroot\n-----END CERTIFICATE-----\n";
        try
        {
            await node.CreateConfigMapAsync("kube-root-ca.crt", new() { ["ca.crt"] = ca });
        }
        catch (NodeAgent.Kube.Http.ApiException e) when (e.IsAlreadyExists)
        {
        }

        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.ServiceAccountName = account;
            s.Volumes =
            [
                new V1Volume
                {
                    Name = "kube-api-access",
                    Projected = new V1ProjectedVolumeSource
                    {
                        DefaultMode = 420,
                        Sources =
                        [
                            new V1VolumeProjection { ServiceAccountToken = new V1ServiceAccountTokenProjection { Path = "token", ExpirationSeconds = 3607 } },
                            new V1VolumeProjection { ConfigMap = new V1ConfigMapProjection { Name = "kube-root-ca.crt", Items = [new V1KeyToPath { Key = "ca.crt", Path = "ca.crt" }] } },
                            new V1VolumeProjection { DownwardAPI = new V1DownwardAPIProjection { Items = [new V1DownwardAPIVolumeFile { Path = "namespace", FieldRef = new V1ObjectFieldSelector { FieldPath = "metadata.namespace" } }] } },
                        ],
                    },
                },
            ];
        });
        var (volumes, _) = node.Volumes();
        var dir = volumes.DirectoryOf(pod.Metadata.Uid, pod.Spec.Volumes[0]);
        try
        {
            await volumes.SetUpAsync(pod, CancellationToken.None);
            Assert.Equal("tmpfs", FsType(dir));
            Assert.Equal(ca, File.ReadAllText(Path.Combine(dir, "ca.crt")));
            Assert.Equal("default", File.ReadAllText(Path.Combine(dir, "namespace")));

            var token = File.ReadAllText(Path.Combine(dir, "token"));
            var review = await new ReviewClient(node.Admin).ReviewTokenAsync(new V1TokenReview { Spec = new V1TokenReviewSpec { Token = token } });
            Assert.True(review.Status.Authenticated);
            Assert.Equal($"system:serviceaccount:default:{account}", review.Status.User.Username);
            // Bound to this pod, for the lifetime asked.
            var claims = System.Text.Json.JsonDocument.Parse(Base64Url(token.Split('.')[1])).RootElement;
            Assert.Equal(pod.Metadata.Name, claims.GetProperty("kubernetes.io").GetProperty("pod").GetProperty("name").GetString());
            Assert.Equal(pod.Metadata.Uid, claims.GetProperty("kubernetes.io").GetProperty("pod").GetProperty("uid").GetString());
            Assert.Equal(3607, claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64());

            // Within 80 % of its lifetime the token is served again, not requested again.
            await volumes.RefreshAsync(CancellationToken.None);
            Assert.Equal(token, File.ReadAllText(Path.Combine(dir, "token")));
            volumes.TearDown(pod.Metadata.Uid);
            Assert.Null(FsType(dir));
        }
        finally
        {
            while (Mounts.Unmount(dir))
            {
            }
        }
    }

    private static byte[] Base64Url(string s)
    {
        s = s.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
    }

    /// <summary>The type of the filesystem mounted exactly on <paramref name="dir"/> (the last such mount), or null.</summary>
    private static string? FsType(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Where(f => f[4] == dir)
            .Select(f => f[Array.IndexOf(f, "-") + 1]).LastOrDefault();

    private static int MountCount(string dir) =>
        File.ReadAllLines("/proc/self/mountinfo").Count(l => l.Split(' ')[4] == dir);
}
