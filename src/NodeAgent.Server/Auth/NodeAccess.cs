namespace NodeAgent.Server.Auth;

/// <summary>
/// What a kubelet API request asks of the Node object, for authorization: <paramref name="Verb"/> on
/// <c>nodes/<paramref name="Subresource"/></c> named <paramref name="NodeName"/> (core group, v1), at
/// <paramref name="Path"/>.
/// </summary>
public sealed record NodeAccess(string Verb, string Subresource, string NodeName, string Path)
{
    /// <summary>
    /// kubelet's mapping (pkg/kubelet/server/auth.go, fine-grained authorization as in current releases): the HTTP
    /// method gives the verb (POST create, GET get, PUT update, PATCH patch, DELETE delete, anything else none);
    /// <c>/stats</c>, <c>/metrics</c>, <c>/logs</c>, <c>/checkpoint</c> and their subpaths give <c>stats</c>,
    /// <c>metrics</c>, <c>log</c>, <c>checkpoint</c>; <c>/pods</c> and <c>/runningpods/</c> are tried as
    /// <c>pods</c>, <c>/healthz</c> as <c>healthz</c>, <c>/configz</c> as <c>configz</c>, each then falling back to
    /// <c>proxy</c>; everything else (<c>/containerLogs</c>, <c>/exec</c>…) is <c>proxy</c>. The request is allowed
    /// when any of the returned accesses is.
    /// </summary>
    public static IReadOnlyList<NodeAccess> For(string method, string path, string nodeName)
    {
        var verb = method switch
        {
            "POST" => "create",
            "GET" => "get",
            "PUT" => "update",
            "PATCH" => "patch",
            "DELETE" => "delete",
            _ => string.Empty,
        };
        NodeAccess Access(string subresource) => new(verb, subresource, nodeName, path);
        if (IsSubpath(path, "/stats"))
        {
            return [Access("stats")];
        }

        if (IsSubpath(path, "/metrics"))
        {
            return [Access("metrics")];
        }

        if (IsSubpath(path, "/logs"))
        {
            return [Access("log")];
        }

        if (IsSubpath(path, "/checkpoint"))
        {
            return [Access("checkpoint")];
        }

        var fineGrained = IsSubpath(path, "/pods") || IsSubpath(path, "/runningpods") ? "pods"
            : IsSubpath(path, "/healthz") ? "healthz"
            : IsSubpath(path, "/configz") ? "configz"
            : null;
        return fineGrained is null ? [Access("proxy")] : [Access(fineGrained), Access("proxy")];
    }

    /// <summary>kubelet's isSubpath: <paramref name="path"/> is <paramref name="root"/> or below it.</summary>
    public static bool IsSubpath(string path, string root)
    {
        root = root.TrimEnd('/');
        return path == root || (path.StartsWith(root, StringComparison.Ordinal) && path.Length > root.Length && path[root.Length] == '/');
    }
}
