using k8s.Models;
using NodeAgent.Kube.Api;

namespace NodeAgent.Server.Auth;

/// <summary><see cref="IKubeletReviewer"/> through the API server's TokenReview and SubjectAccessReview, with the
/// node's own credential (the Node authorizer lets a node create both).</summary>
public sealed class ApiReviewer(ReviewClient reviews) : IKubeletReviewer
{
    public async Task<KubeletUser?> ReviewTokenAsync(string token, CancellationToken cancellationToken)
    {
        var answer = await reviews.ReviewTokenAsync(new V1TokenReview { Spec = new V1TokenReviewSpec { Token = token } }, cancellationToken).ConfigureAwait(false);
        if (answer.Status is not { Authenticated: true, User.Username: { Length: > 0 } name } status)
        {
            return null;
        }

        return new KubeletUser(name, [.. status.User.Groups ?? []], status.User.Uid);
    }

    public Task<bool> ReviewAccessAsync(KubeletUser user, NodeAccess access, CancellationToken cancellationToken) =>
        reviews.IsAllowedAsync(user.Name, user.Groups, new V1ResourceAttributes
        {
            Verb = access.Verb,
            Group = string.Empty,
            Version = "v1",
            Resource = "nodes",
            Subresource = access.Subresource,
            Name = access.NodeName,
        }, cancellationToken);
}
