using k8s;
using k8s.Models;

namespace NodeAgent.Kube.Api;

/// <summary>Where one resource type lives on the API server: group, version, plural, kind, and whether it is namespaced.</summary>
public sealed record ApiResource<T, TList>(string Group, string Version, string Plural, string Kind, bool Namespaced)
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : class, IItems<T>, IMetadata<V1ListMeta>
{
    /// <summary>"v1" for the core group, "group/version" otherwise.</summary>
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>The collection path, in one namespace (or cluster-wide when <paramref name="ns"/> is null or the type is cluster-scoped).</summary>
    public string CollectionPath(string? ns)
    {
        var prefix = Group.Length == 0 ? "/api/v1" : $"/apis/{Group}/{Version}";
        if (Namespaced && ns is not null)
        {
            return $"{prefix}/namespaces/{PathSegment(ns, "namespace")}/{Plural}";
        }
        return $"{prefix}/{Plural}";
    }

    /// <summary>The path of one object, or of its subresource.</summary>
    public string ObjectPath(string? ns, string name, string? subresource = null)
    {
        if (Namespaced && string.IsNullOrEmpty(ns))
        {
            throw new ArgumentException($"{Plural} are namespaced: a namespace is required for {name}", nameof(ns));
        }
        var path = $"{CollectionPath(Namespaced ? ns : null)}/{PathSegment(name, "name")}";
        return subresource is null ? path : $"{path}/{PathSegment(subresource, "subresource")}";
    }

    /// <summary>A name as a path segment; names with '/', '%' or that are "." / ".." are refused, as the server refuses them.</summary>
    internal static string PathSegment(string value, string what)
    {
        if (string.IsNullOrEmpty(value) || value is "." or ".." || value.AsSpan().IndexOfAny('/', '%') >= 0
            || value.AsSpan().IndexOfAnyInRange('\0', ' ') >= 0 || value.Length > 253)
        {
            throw new ArgumentException($"{what} \"{value}\" may not be used in a request path", what);
        }
        return Uri.EscapeDataString(value);
    }
}
