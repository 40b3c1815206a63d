namespace NodeAgent.Server.Auth;

/// <summary>
/// The API server's answers the kubelet API delegates to (TokenReview, SubjectAccessReview). <see cref="ApiReviewer"/>
/// asks a real API server through NodeAgent.Kube; a throw means the review could not be made (not cached).
/// </summary>
public interface IKubeletReviewer
{
    /// <summary>The user the bearer token belongs to, or null when the API server says it does not authenticate.</summary>
    Task<KubeletUser?> ReviewTokenAsync(string token, CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="user"/> may do <paramref name="access"/>.</summary>
    Task<bool> ReviewAccessAsync(KubeletUser user, NodeAccess access, CancellationToken cancellationToken);
}
