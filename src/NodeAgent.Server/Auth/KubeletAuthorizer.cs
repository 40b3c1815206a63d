namespace NodeAgent.Server.Auth;

/// <summary>
/// kubelet's authorization: <c>AlwaysAllow</c> (no reviewer), or <c>Webhook</c>: a SubjectAccessReview per
/// <see cref="NodeAccess"/>, answers cached (allowed for <paramref name="authorizedTtl"/>, denied for
/// <paramref name="unauthorizedTtl"/>; errors are not cached and propagate).
/// </summary>
public sealed class KubeletAuthorizer(IKubeletReviewer? reviewer, TimeSpan authorizedTtl, TimeSpan unauthorizedTtl, TimeProvider time)
{
    private readonly ExpiringCache<string, bool> _cache = new(time);

    public static KubeletAuthorizer AlwaysAllow { get; } = new(null, TimeSpan.Zero, TimeSpan.Zero, TimeProvider.System);

    public async Task<bool> AuthorizeAsync(KubeletUser user, NodeAccess access, CancellationToken cancellationToken)
    {
        if (reviewer is null)
        {
            return true;
        }

        // Unambiguous key: every part is length-prefixed, so no user or path can imitate another's.
        var parts = new[] { user.Name, user.Uid ?? string.Empty, access.Verb, access.Subresource, access.NodeName }.Concat(user.Groups.Order(StringComparer.Ordinal));
        var key = string.Concat(parts.Select(p => $"{p.Length}:{p}"));
        if (_cache.TryGet(key, out var allowed))
        {
            return allowed;
        }

        allowed = await reviewer.ReviewAccessAsync(user, access, cancellationToken).ConfigureAwait(false);
        _cache.Set(key, allowed, allowed ? authorizedTtl : unauthorizedTtl);
        return allowed;
    }
}
