using k8s.Models;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>kubelet's token manager: a token is requested again once 80 % of its lifetime has passed, and a failed
/// renewal keeps the current token while it is valid.</summary>
public class ServiceAccountTokenCacheTests
{
    private static readonly V1Pod Pod = new()
    {
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "ns", Uid = "uid-1" },
        Spec = new V1PodSpec { ServiceAccountName = "robot" },
    };

    [Fact]
    public async Task ATokenIsRenewedAtEightyPercentOfItsLifetime()
    {
        var clock = new FixedTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var requests = new List<(string Ns, string Account, Authenticationv1TokenRequest Request)>();
        var cache = new ServiceAccountTokenCache((ns, account, request, _) =>
        {
            requests.Add((ns, account, request));
            return Task.FromResult(new Authenticationv1TokenRequest
            {
                Spec = request.Spec,
                Status = new V1TokenRequestStatus { Token = $"t{requests.Count}", ExpirationTimestamp = clock.Now.UtcDateTime.AddSeconds(request.Spec.ExpirationSeconds!.Value) },
            });
        }, clock);

        var first = await cache.GetAsync(Pod, "vault", 1000, CancellationToken.None);
        Assert.Equal("t1", first.Token);
        var sent = Assert.Single(requests);
        Assert.Equal(("ns", "robot"), (sent.Ns, sent.Account));
        Assert.Equal(["vault"], sent.Request.Spec.Audiences);
        Assert.Equal(1000, sent.Request.Spec.ExpirationSeconds);
        Assert.Equal(("Pod", "p", "uid-1"), (sent.Request.Spec.BoundObjectRef.Kind, sent.Request.Spec.BoundObjectRef.Name, sent.Request.Spec.BoundObjectRef.Uid));

        clock.Now = clock.Now.AddSeconds(799);
        Assert.Equal("t1", (await cache.GetAsync(Pod, "vault", 1000, CancellationToken.None)).Token);
        Assert.Single(requests);

        clock.Now = clock.Now.AddSeconds(1);
        Assert.Equal("t2", (await cache.GetAsync(Pod, "vault", 1000, CancellationToken.None)).Token);
        Assert.Equal(2, requests.Count);

        // Another audience is another token; forgetting the pod drops them all.
        Assert.Equal("t3", (await cache.GetAsync(Pod, null, 1000, CancellationToken.None)).Token);
        Assert.Empty(requests[2].Request.Spec.Audiences);
        Assert.Equal(2, cache.Count);
        cache.ForgetPod("uid-1");
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public async Task AFailedRenewalKeepsTheValidTokenAndFailsOnceItExpired()
    {
        var clock = new FixedTimeProvider(new DateTimeOffset(2026, 12, 2, 0, 0, 0, TimeSpan.Zero));
        var fail = false;
        var cache = new ServiceAccountTokenCache((_, _, request, _) => fail
            ? throw new HttpRequestException("connection refused")
            : Task.FromResult(new Authenticationv1TokenRequest
            {
                Spec = request.Spec,
                Status = new V1TokenRequestStatus { Token = "tok", ExpirationTimestamp = clock.Now.UtcDateTime.AddSeconds(600) },
            }), clock);
        await cache.GetAsync(Pod, null, 600, CancellationToken.None);

        fail = true;
        clock.Now = clock.Now.AddSeconds(590);
        Assert.Equal("tok", (await cache.GetAsync(Pod, null, 600, CancellationToken.None)).Token);
        clock.Now = clock.Now.AddSeconds(10);
        var e = await Assert.ThrowsAsync<ApiObjectsException>(() => cache.GetAsync(Pod, null, 600, CancellationToken.None));
        Assert.Equal("cannot get a service account token for ns/robot: connection refused", e.Message);
    }

    [Theory]
    [InlineData(599)]
    [InlineData(-1)]
    [InlineData(long.MaxValue)]
    public async Task ALifetimeOutsideTheApiServersRangeIsRefusedWithoutARequest(long seconds)
    {
        var cache = new ServiceAccountTokenCache((_, _, _, _) => throw new InvalidOperationException("no request expected"), TimeProvider.System);
        var e = await Assert.ThrowsAsync<ApiObjectsException>(() => cache.GetAsync(Pod, null, seconds, CancellationToken.None));
        Assert.Contains($"expirationSeconds {seconds} is outside", e.Message);
    }
}
