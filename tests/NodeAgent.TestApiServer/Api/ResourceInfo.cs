namespace NodeAgent.TestApiServer.Api;

/// <summary>One resource type the server serves: discovery data, scope, subresources, and its typed round trip (decode + encode through the client library's model, which drops and detects unknown fields).</summary>
public sealed record ResourceInfo(
    string Group,
    string Version,
    string Plural,
    string Singular,
    string Kind,
    bool Namespaced,
    string[] ShortNames,
    string[] Subresources,
    Func<string, string> RoundTrip)
{
    public string GroupVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The store key: "pods", "coordination.k8s.io/leases".</summary>
    public string Key => Group.Length == 0 ? Plural : $"{Group}/{Plural}";

    /// <summary>The resource as authorization and error messages name it ("pods", "leases.coordination.k8s.io").</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public bool HasStatus => Subresources.Contains("status");
}
