using System.Net;
using System.Text;
using k8s;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>The TokenRequest API, service-account token authentication and TokenReview, as a kubelet uses them for projected tokens.</summary>
public sealed class TokenTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>, IDisposable
{
    private readonly KubeApiConnection _admin = new(KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig));
    private readonly KubeApiConnection _n1 = new(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n1")));
    private readonly KubeApiConnection _n2 = new(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n2")));

    public void Dispose()
    {
        _admin.Dispose();
        _n1.Dispose();
        _n2.Dispose();
    }

    private static Task<Authenticationv1TokenRequest> RequestToken(KubeApiConnection c, string sa, string pod, string podUid, long seconds = 3600) =>
        c.SendAsync<Authenticationv1TokenRequest>(HttpMethod.Post, $"/api/v1/namespaces/default/serviceaccounts/{sa}/token",
            Encoding.UTF8.GetBytes(KubernetesJson.Serialize(new Authenticationv1TokenRequest
            {
                Spec = new V1TokenRequestSpec
                {
                    ExpirationSeconds = seconds,
                    BoundObjectRef = new V1BoundObjectReference { ApiVersion = "v1", Kind = "Pod", Name = pod, Uid = podUid },
                },
            })), "application/json", CancellationToken.None);

    [Fact]
    public async Task ANodeGetsPodBoundTokensThatAuthenticateUntilThePodIsGone()
    {
        await new ResourceClient<V1ServiceAccount, V1ServiceAccountList>(_admin, new ApiResource<V1ServiceAccount, V1ServiceAccountList>("", "v1", "serviceaccounts", "ServiceAccount", true))
            .CreateAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "robot", NamespaceProperty = "default" } });
        var pod = await new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods).CreateAsync(new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "uses-robot", NamespaceProperty = "default" },
            Spec = new V1PodSpec { NodeName = "n1", ServiceAccountName = "robot", Containers = [new V1Container { Name = "c", Image = "busybox:1" }] },
        });

        var issued = await RequestToken(_n1, "robot", "uses-robot", pod.Metadata.Uid);
        var token = issued.Status.Token;
        Assert.Equal(3, token.Split('.').Length);
        Assert.True(issued.Status.ExpirationTimestamp > DateTime.UtcNow.AddMinutes(59));

        var other = await Assert.ThrowsAsync<ApiException>(() => RequestToken(_n2, "robot", "uses-robot", pod.Metadata.Uid));
        Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        Assert.Contains("node \"n2\" can only create tokens bound to pods scheduled to itself", other.Message);
        var tooShort = await Assert.ThrowsAsync<ApiException>(() => RequestToken(_n1, "robot", "uses-robot", pod.Metadata.Uid, 60));
        Assert.Contains("may not specify a duration less than 10 minutes", tooShort.Message);

        // The token is an identity: authenticated as the service account, which has no permissions of its own.
        var asRobot = KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig) with { BearerToken = token };
        using (var robot = new KubeApiConnection(asRobot))
        {
            var denied = await Assert.ThrowsAsync<ApiException>(() => new ResourceClient<V1Pod, V1PodList>(robot, KubeResources.Pods).ListAsync("default"));
            Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
            Assert.Contains("User \"system:serviceaccount:default:robot\" cannot list resource \"pods\"", denied.Message);
        }

        var review = await _n1.SendAsync<V1TokenReview>(HttpMethod.Post, "/apis/authentication.k8s.io/v1/tokenreviews",
            Encoding.UTF8.GetBytes(KubernetesJson.Serialize(new V1TokenReview { Spec = new V1TokenReviewSpec { Token = token } })), "application/json", CancellationToken.None);
        Assert.True(review.Status.Authenticated);
        Assert.Equal("system:serviceaccount:default:robot", review.Status.User.Username);
        Assert.Contains("system:serviceaccounts:default", review.Status.User.Groups);

        // Once the pod it is bound to is gone, the token is worth nothing.
        await new ResourceClient<V1Pod, V1PodList>(_n1, KubeResources.Pods).DeleteAsync("default", "uses-robot", new DeleteOptions { GracePeriodSeconds = 0 });
        using (var robot = new KubeApiConnection(asRobot))
        {
            var gone = await Assert.ThrowsAsync<ApiException>(() => new ResourceClient<V1Pod, V1PodList>(robot, KubeResources.Pods).ListAsync("default"));
            Assert.Equal(HttpStatusCode.Unauthorized, gone.StatusCode);
        }
    }
}
