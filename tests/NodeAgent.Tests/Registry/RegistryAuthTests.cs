using System.Text;
using NodeAgent.Registry;
using NodeAgent.Registry.Auth;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Registry;

/// <summary>Basic auth against docker-registry's htpasswd, and a bearer-token challenge from a loopback token endpoint.</summary>
public sealed class RegistryAuthTests : IAsyncLifetime
{
    private RegistryServer _basic = null!;
    private RegistryServer _open = null!;
    private RegistryProxy _bearer = null!;

    public async Task InitializeAsync()
    {
        _basic = await RegistryServer.StartAsync(("alice", "s3cret"));
        await _basic.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "private/busybox:1");
        _open = await RegistryServer.StartAsync();
        await _open.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "team/busybox:1");
        _bearer = new RegistryProxy(_open) { Bearer = ("bob", "hunter2") };
    }

    public async Task DisposeAsync()
    {
        await _bearer.DisposeAsync();
        await _open.DisposeAsync();
        await _basic.DisposeAsync();
    }

    private static PullRequest Http => new() { PlainHttp = true };

    [Fact]
    public async Task BasicAuthWithoutCredentialsIsUnauthorized()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync($"{_basic.Host}/private/busybox:1", Http, CancellationToken.None));
        Assert.Equal(RegistryErrorKind.Unauthorized, e.Kind);
        Assert.Contains("401", e.Message);
        Assert.Contains("no credentials", e.Message);
        Assert.Empty(s.Blobs());
    }

    [Fact]
    public async Task BasicAuthWithWrongPasswordIsUnauthorized()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync($"{_basic.Host}/private/busybox:1",
            Http with { Credentials = new RegistryCredentials("alice", "wrong") }, CancellationToken.None));
        Assert.Equal(RegistryErrorKind.Unauthorized, e.Kind);
    }

    [Fact]
    public async Task BasicAuthWithExplicitCredentials()
    {
        using var s = new PullStore();
        var r = await s.Puller.PullAsync($"{_basic.Host}/private/busybox:1", Http with { Credentials = new RegistryCredentials("alice", "s3cret") }, CancellationToken.None);
        Assert.Single(r.Image.DiffIds);
    }

    [Fact]
    public async Task BasicAuthFromDockerConfigJsonPullSecret()
    {
        using var s = new PullStore();
        var keyring = new DockerKeyring();
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cret"));
        keyring.Add(DockerKeyring.DockerConfigJsonType, Encoding.UTF8.GetBytes($"{{\"auths\":{{\"http://{_basic.Host}\":{{\"auth\":\"{auth}\"}}}}}}"), "secret default/regcred");

        var r = await s.Puller.PullAsync($"{_basic.Host}/private/busybox:1", Http with { Keyring = keyring }, CancellationToken.None);
        Assert.NotNull(s.Store.Resolve($"{_basic.Host}/private/busybox:1"));
        Assert.Equal(r.Image.Id, s.Store.Resolve($"{_basic.Host}/private/busybox:1")!.Id);
    }

    [Fact]
    public async Task BasicAuthFromNodeRegistryConfig()
    {
        var config = RegistryConfigParser.Parse($"configs:\n  \"{_basic.Host}\":\n    auth:\n      username: alice\n      password: s3cret\n", "registries.yaml");
        using var s = new PullStore(config);
        var r = await s.Puller.PullAsync($"{_basic.Host}/private/busybox:1", Http, CancellationToken.None);
        Assert.Single(r.Image.DiffIds);
    }

    [Fact]
    public async Task BearerChallengeFetchesATokenForTheRepositoryScope()
    {
        using var s = new PullStore();
        var r = await s.Puller.PullAsync($"{_bearer.Host}/team/busybox:1", Http with { Credentials = new RegistryCredentials("bob", "hunter2") }, CancellationToken.None);

        Assert.Single(r.Image.DiffIds);
        Assert.Contains("repository:team/busybox:pull", _bearer.TokenScopes);
    }

    [Fact]
    public async Task BearerChallengeWithBadCredentialsIsUnauthorizedAndLeavesNothing()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync($"{_bearer.Host}/team/busybox:1",
            Http with { Credentials = new RegistryCredentials("bob", "nope") }, CancellationToken.None));

        Assert.Equal(RegistryErrorKind.Unauthorized, e.Kind);
        Assert.Contains("token endpoint", e.Message);
        Assert.Contains("bob", e.Message);
        Assert.Empty(s.Blobs());
    }
}
