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

    /// <summary>The store key: "pods", "coordination.k8s.io/leases"; another type's key when this one is a view of it.</summary>
    public string Key => View?.StoreKey ?? (Group.Length == 0 ? Plural : $"{Group}/{Plural}");

    /// <summary>Set when this type is served from another type's storage (events.k8s.io/v1 over core/v1 events).</summary>
    public ResourceView? View { get; init; }

    /// <summary>The object as this type shows it.</summary>
    public byte[] Out(Storage.StoredObject stored) =>
        View is null ? stored.Json : System.Text.Encoding.UTF8.GetBytes(View.FromStored(stored.Parse()).ToWire());

    public System.Text.Json.Nodes.JsonObject Shown(Storage.StoredObject stored) => View is null ? stored.Parse() : View.FromStored(stored.Parse());

    /// <summary>The resource as authorization and error messages name it ("pods", "leases.coordination.k8s.io").</summary>
    public string QualifiedName => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public bool HasStatus => Subresources.Contains("status");

    /// <summary>TokenReview, SubjectAccessReview and the like: create-only, answered and never stored.</summary>
    public bool IsReview => Kind.EndsWith("Review", StringComparison.Ordinal);
}
