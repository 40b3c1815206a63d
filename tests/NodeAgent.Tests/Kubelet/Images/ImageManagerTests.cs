using NodeAgent.Registry;
using System.Text;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Images;
using NodeAgent.Registry.Auth;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Registry;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Images;

/// <summary>kubelet's image manager against a real registry: pull policy, events, waiting reasons, pull backoff, secrets.</summary>
public sealed class ImageManagerTests(RegistryFixture registry) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly FixedTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z"));
    private readonly PullStore _store = new(RegistryConfigParser.Parse(
        $"mirrors:\n  \"{registry.Server.Host}\":\n    endpoint: [\"http://{registry.Server.Host}\"]\n", "registries.yaml"));
    private PodEventLog? _events;

    private PodEventLog Events => _events ??= new PodEventLog(NullLogger<PodEventLog>.Instance, _time);

    private ImageManager Manager(IPullSecretSource? secrets = null) => new(new RegistryImageService(_store.Store, _store.Puller, _store.Store.Root, _time), Events, _time, secrets);

    private static V1Pod Pod(string image, string? policy, params string[] pullSecrets) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            Containers = [new V1Container { Name = "main", Image = image, ImagePullPolicy = policy }],
            ImagePullSecrets = pullSecrets.Select(s => new V1LocalObjectReference { Name = s }).ToList(),
        },
    };

    private IEnumerable<string> Reasons(V1Pod pod) => Events.For(pod.Metadata.Uid).Select(e => e.Reason);

    [Fact]
    public async Task IfNotPresentPullsOnceWithPullingAndPulledEvents()
    {
        var manager = Manager();
        var pod = Pod($"{registry.Server.Host}/app:shared", "IfNotPresent");

        var first = await manager.EnsureImageExistsAsync(pod, pod.Spec.Containers[0], CancellationToken.None);
        var second = await manager.EnsureImageExistsAsync(pod, pod.Spec.Containers[0], CancellationToken.None);

        Assert.NotNull(first.Image);
        Assert.Equal(first.Image!.Id, second.Image?.Id);
        Assert.Equal(["Pulling", "Pulled", "Pulled"], Reasons(pod));
        var pulled = Events.For(pod.Metadata.Uid)[1].Message;
        Assert.Matches(@"^Successfully pulled image "".+/app:shared"" in [0-9.]+m?s \([0-9.]+m?s including waiting\)\. Image size: [0-9]+ bytes\.$", pulled);
        Assert.Contains("already present on machine", Events.For(pod.Metadata.Uid)[2].Message);
        Assert.Equal(first.Image.Id, _store.Store.Resolve($"{registry.Server.Host}/app:shared")!.Id);
        Assert.NotNull(_store.Store.Resolve(first.Image.Id)!.LastUsed);
    }

    [Fact]
    public async Task LatestTagDefaultsToAlwaysAndPullsAgain()
    {
        var manager = Manager();
        var pod = Pod($"{registry.Server.Host}/busybox:1", null);
        var latest = Pod($"{registry.Server.Host}/app", null); // no tag: :latest, which does not exist

        var r = await manager.EnsureImageExistsAsync(pod, pod.Spec.Containers[0], CancellationToken.None);
        await manager.EnsureImageExistsAsync(pod, pod.Spec.Containers[0], CancellationToken.None);
        var missing = await manager.EnsureImageExistsAsync(latest, latest.Spec.Containers[0], CancellationToken.None);

        Assert.NotNull(r.Image);
        Assert.Equal(["Pulling", "Pulled", "Pulled"], Reasons(pod)); // IfNotPresent for :1
        Assert.Equal("ErrImagePull", missing.Waiting?.Reason);
        Assert.Contains("app:latest", missing.Waiting?.Message);
    }

    [Fact]
    public async Task FailedPullIsErrImagePullThenImagePullBackOffDoublingPerPodAndImage()
    {
        var manager = Manager();
        var pod = Pod($"{registry.Server.Host}/app:missing", "Always");
        var c = pod.Spec.Containers[0];

        var r1 = await manager.EnsureImageExistsAsync(pod, c, CancellationToken.None);
        Assert.Equal("ErrImagePull", r1.Waiting?.Reason);
        Assert.Contains("404", r1.Waiting?.Message);
        Assert.StartsWith($"Failed to pull image \"{registry.Server.Host}/app:missing\": ", r1.Waiting?.Message);

        _time.Now += TimeSpan.FromSeconds(5);
        var r2 = await manager.EnsureImageExistsAsync(pod, c, CancellationToken.None);
        Assert.Equal("ImagePullBackOff", r2.Waiting?.Reason);
        Assert.Equal($"Back-off pulling image \"{registry.Server.Host}/app:missing\"", r2.Waiting?.Message);
        Assert.Equal(TimeSpan.FromSeconds(5), r2.RetryAfter);

        _time.Now += TimeSpan.FromSeconds(6); // 10 s passed: pull again, fail, back off 20 s
        Assert.Equal("ErrImagePull", (await manager.EnsureImageExistsAsync(pod, c, CancellationToken.None)).Waiting?.Reason);
        _time.Now += TimeSpan.FromSeconds(15);
        Assert.Equal("ImagePullBackOff", (await manager.EnsureImageExistsAsync(pod, c, CancellationToken.None)).Waiting?.Reason);

        // Another pod is not in this pod's backoff.
        var other = Pod($"{registry.Server.Host}/app:missing", "Always");
        Assert.Equal("ErrImagePull", (await manager.EnsureImageExistsAsync(other, other.Spec.Containers[0], CancellationToken.None)).Waiting?.Reason);
        // Repeated events are counted, as the API server's event series do.
        Assert.Equal(["Pulling", "Failed", "BackOff"], Reasons(pod));
        Assert.All(Events.For(pod.Metadata.Uid), e => Assert.Equal(2, e.Count));
    }

    [Fact]
    public async Task NeverWithoutImageIsErrImageNeverPull()
    {
        var pod = Pod($"{registry.Server.Host}/app:shared", "Never");
        var r = await Manager().EnsureImageExistsAsync(pod, pod.Spec.Containers[0], CancellationToken.None);
        Assert.Equal("ErrImageNeverPull", r.Waiting?.Reason);
        Assert.Equal($"Container image \"{registry.Server.Host}/app:shared\" is not present with pull policy of Never", r.Waiting?.Message);
        Assert.Equal(["ErrImageNeverPull"], Reasons(pod));
    }

    [Fact]
    public async Task InvalidNameIsInvalidImageName()
    {
        var pod = Pod("Not/A:valid:ref", "IfNotPresent");
        var r = await Manager().EnsureImageExistsAsync(pod, pod.Spec.Containers[0], CancellationToken.None);
        Assert.Equal("InvalidImageName", r.Waiting?.Reason);
        Assert.StartsWith("Failed to apply default image tag \"Not/A:valid:ref\"", r.Waiting?.Message);
        Assert.Equal(["InspectFailed"], Reasons(pod));
    }

    [Fact]
    public async Task PullSecretsOfThePodAreUsed()
    {
        await using var auth = await RegistryServer.StartAsync(("carol", "pw"));
        await auth.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "secret/busybox:1");
        var config = RegistryConfigParser.Parse($"mirrors:\n  \"{auth.Host}\":\n    endpoint: [\"http://{auth.Host}\"]\n", "registries.yaml");
        using var store = new PullStore(config);
        var docker = Encoding.UTF8.GetBytes($"{{\"auths\":{{\"{auth.Host}\":{{\"username\":\"carol\",\"password\":\"pw\"}}}}}}");
        var secrets = new DictionaryPullSecrets(new() { ["default/regcred"] = new PullSecret(DockerKeyring.DockerConfigJsonType, new Dictionary<string, byte[]> { [".dockerconfigjson"] = docker }) });
        var manager = new ImageManager(new RegistryImageService(store.Store, store.Puller, store.Store.Root, _time), Events, _time, secrets);

        var without = Pod($"{auth.Host}/secret/busybox:1", "IfNotPresent", "absent");
        var with = Pod($"{auth.Host}/secret/busybox:1", "IfNotPresent", "absent", "regcred");

        var denied = await manager.EnsureImageExistsAsync(without, without.Spec.Containers[0], CancellationToken.None);
        var allowed = await manager.EnsureImageExistsAsync(with, with.Spec.Containers[0], CancellationToken.None);

        Assert.Equal("ErrImagePull", denied.Waiting?.Reason);
        Assert.Contains("401", denied.Waiting?.Message);
        Assert.NotNull(allowed.Image);
    }

    public void Dispose() => _store.Dispose();

    /// <summary>Pull secrets held in memory, keyed <c>namespace/name</c> (what an API-server-backed source returns).</summary>
    private sealed class DictionaryPullSecrets(Dictionary<string, PullSecret> secrets) : IPullSecretSource
    {
        public Task<PullSecret?> GetAsync(string namespaceName, string name, CancellationToken cancellationToken) =>
            Task.FromResult(secrets.GetValueOrDefault($"{namespaceName}/{name}"));
    }
}
