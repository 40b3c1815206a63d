namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// What an authorizer decides on, as the real server's authorizer.Attributes: a verb on a resource (group, resource,
/// subresource, namespace, name, and the <c>metadata.name</c> a list or watch is restricted to) or on a non-resource
/// path. Built from a request or from a SubjectAccessReview, so both are judged by the same rules.
/// </summary>
public sealed record AccessAttributes(string Verb, string Group, string Resource, string? Subresource, string? Namespace, string? Name, string? SelectedName = null)
{
    /// <summary>Set for a non-resource request (<c>/healthz</c>, <c>/api</c>); the resource fields are then empty.</summary>
    public string? Path { get; init; }

    public bool IsResourceRequest => Path is null;

    /// <summary>"pods" or "pods/status", as RBAC names it.</summary>
    public string RbacResource => Subresource is { Length: > 0 } ? $"{Resource}/{Subresource}" : Resource;

    public static AccessAttributes For(RequestInfo r, FieldSelector fields) =>
        new(r.Verb, r.Resource.Group, r.Resource.Plural, r.Subresource, r.Namespace, r.Name,
            r.Verb is "list" or "watch" ? fields.RequiredValue("metadata.name") : null);

    public static AccessAttributes NonResource(string verb, string path) => new(verb, "", "", null, null, null) { Path = path };
}
