using k8s;
using k8s.Models;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kube.Api;

/// <summary>
/// The review APIs a kubelet's own server asks when it delegates authentication and authorization to the API server
/// (as kubelet's <c>--authentication-token-webhook</c> and <c>--authorization-mode=Webhook</c> do): TokenReview
/// (who holds this bearer token?) and SubjectAccessReview (may this user do this verb on, say, <c>nodes/proxy</c>?).
/// Reviews are create-only and never stored; the answer is the review with its status.
/// </summary>
public sealed class ReviewClient(KubeApiConnection connection)
{
    public Task<V1TokenReview> ReviewTokenAsync(V1TokenReview review, CancellationToken cancellationToken = default) =>
        Create(review, "/apis/authentication.k8s.io/v1/tokenreviews", "authentication.k8s.io/v1", "TokenReview", cancellationToken);

    public Task<V1SubjectAccessReview> ReviewAccessAsync(V1SubjectAccessReview review, CancellationToken cancellationToken = default) =>
        Create(review, "/apis/authorization.k8s.io/v1/subjectaccessreviews", "authorization.k8s.io/v1", "SubjectAccessReview", cancellationToken);

    /// <summary>Asks whether <paramref name="user"/> (with <paramref name="groups"/>) may do <paramref name="attributes"/>.</summary>
    public async Task<bool> IsAllowedAsync(string user, IReadOnlyList<string> groups, V1ResourceAttributes attributes, CancellationToken cancellationToken = default)
    {
        var answer = await ReviewAccessAsync(new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec { User = user, Groups = [.. groups], ResourceAttributes = attributes },
        }, cancellationToken).ConfigureAwait(false);
        return answer.Status?.Allowed == true;
    }

    private Task<T> Create<T>(T review, string path, string apiVersion, string kind, CancellationToken cancellationToken)
        where T : IKubernetesObject
    {
        review.ApiVersion = apiVersion;
        review.Kind = kind;
        return connection.SendAsync<T>(HttpMethod.Post, path, System.Text.Encoding.UTF8.GetBytes(KubernetesJson.Serialize(review)), "application/json", cancellationToken);
    }
}
