namespace NodeAgent.TestApiServer.Api;

/// <summary>A parsed resource request: verb, resource, namespace, name and subresource.</summary>
public sealed record RequestInfo(string Verb, ResourceInfo Resource, string? Namespace, string? Name, string? Subresource)
{
    /// <summary>"pods" or "pods/status", as RBAC names it.</summary>
    public string RbacResource => Subresource is null ? Resource.Plural : $"{Resource.Plural}/{Subresource}";
}
