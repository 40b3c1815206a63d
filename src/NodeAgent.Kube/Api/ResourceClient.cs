using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kube.Api;

/// <summary>
/// Typed get/list/create/update/patch/delete/watch of one resource type over a <see cref="KubeApiConnection"/>,
/// serialized with the client library's source-generated JSON (the daemon is Native AOT).
/// </summary>
public sealed class ResourceClient<T, TList>
    where T : class, IKubernetesObject<V1ObjectMeta>
    where TList : class, IItems<T>, IMetadata<V1ListMeta>
{
    private readonly KubeApiConnection _connection;

    public ResourceClient(KubeApiConnection connection, ApiResource<T, TList> resource)
    {
        _connection = connection;
        Resource = resource;
    }

    public ApiResource<T, TList> Resource { get; }

    public Task<T> GetAsync(string? ns, string name, CancellationToken cancellationToken = default) =>
        _connection.SendAsync<T>(HttpMethod.Get, Resource.ObjectPath(ns, name), null, null, cancellationToken);

    /// <summary>Lists one page (or everything when <see cref="ListOptions.Limit"/> is unset).</summary>
    public Task<TList> ListAsync(string? ns, ListOptions? options = null, CancellationToken cancellationToken = default) =>
        _connection.SendAsync<TList>(HttpMethod.Get, Resource.CollectionPath(ns) + (options ?? new ListOptions()).ToQuery(watch: false), null, null, cancellationToken);

    public Task<T> CreateAsync(T obj, CancellationToken cancellationToken = default) =>
        _connection.SendAsync<T>(HttpMethod.Post, Resource.CollectionPath(NamespaceOf(obj)), Encode(obj), "application/json", cancellationToken);

    /// <summary>PUT of the whole object; the server answers 409 when its resourceVersion is stale.</summary>
    public Task<T> UpdateAsync(T obj, CancellationToken cancellationToken = default) =>
        _connection.SendAsync<T>(HttpMethod.Put, Resource.ObjectPath(NamespaceOf(obj), NameOf(obj)), Encode(obj), "application/json", cancellationToken);

    /// <summary>PUT of the status subresource.</summary>
    public Task<T> UpdateStatusAsync(T obj, CancellationToken cancellationToken = default) =>
        _connection.SendAsync<T>(HttpMethod.Put, Resource.ObjectPath(NamespaceOf(obj), NameOf(obj), "status"), Encode(obj), "application/json", cancellationToken);

    public Task<T> PatchAsync(string? ns, string name, PatchType type, string patch, string? subresource = null, CancellationToken cancellationToken = default) =>
        _connection.SendAsync<T>(HttpMethod.Patch, Resource.ObjectPath(ns, name, subresource), Encoding.UTF8.GetBytes(patch), ContentType(type), cancellationToken);

    /// <summary>Deletes; returns the object as the server left it (terminating with a deletionTimestamp) or null when it is gone.</summary>
    public async Task<T?> DeleteAsync(string? ns, string name, DeleteOptions? options = null, CancellationToken cancellationToken = default)
    {
        byte[]? body = null;
        if (options is not null)
        {
            var delete = new V1DeleteOptions
            {
                ApiVersion = "v1",
                Kind = "DeleteOptions",
                GracePeriodSeconds = options.GracePeriodSeconds,
                PropagationPolicy = options.PropagationPolicy,
                Preconditions = options.PreconditionUid is null && options.PreconditionResourceVersion is null
                    ? null
                    : new V1Preconditions { Uid = options.PreconditionUid, ResourceVersion = options.PreconditionResourceVersion },
            };
            body = Encoding.UTF8.GetBytes(KubernetesJson.Serialize(delete));
        }
        using var response = await _connection.SendAsync(HttpMethod.Delete, Resource.ObjectPath(ns, name), body, "application/json", false, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.TryGetProperty("kind", out var kind) && kind.GetString() == Resource.Kind
            ? KubernetesJson.Deserialize<T>(doc.RootElement)
            : null;
    }

    /// <summary>
    /// Opens a watch and yields its events until the server ends it or <paramref name="cancellationToken"/> fires. A
    /// 410 at open time throws <see cref="ApiException"/> (IsGone); one inside the stream arrives as an Error event.
    /// </summary>
    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync(string? ns, ListOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var response = await _connection.SendAsync(HttpMethod.Get, Resource.CollectionPath(ns) + options.ToQuery(watch: true), null, null,
            streamResponse: true, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            yield return ParseEvent(line);
        }
    }

    private WatchEvent<T> ParseEvent(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        var typeText = root.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (!root.TryGetProperty("object", out var obj) || obj.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException($"watch {Resource.Plural}: event without an object: {Truncate(line)}");
        }
        var type = typeText switch
        {
            "ADDED" => WatchEventType.Added,
            "MODIFIED" => WatchEventType.Modified,
            "DELETED" => WatchEventType.Deleted,
            "BOOKMARK" => WatchEventType.Bookmark,
            "ERROR" => WatchEventType.Error,
            _ => throw new JsonException($"watch {Resource.Plural}: unknown event type \"{typeText}\""),
        };
        if (type == WatchEventType.Error)
        {
            return new WatchEvent<T>(type, null, KubernetesJson.Deserialize<V1Status>(obj));
        }
        var value = KubernetesJson.Deserialize<T>(obj);
        // Whatever the server sends is checked before the cache keys on it: an object needs a name (a bookmark
        // only its resourceVersion).
        if (value?.Metadata is null || (type != WatchEventType.Bookmark && string.IsNullOrEmpty(value.Metadata.Name))
            || (type == WatchEventType.Bookmark && string.IsNullOrEmpty(value.Metadata.ResourceVersion)))
        {
            throw new JsonException($"watch {Resource.Plural}: {typeText} event without metadata.name/resourceVersion: {Truncate(line)}");
        }
        return new WatchEvent<T>(type, value, null);
    }

    private static string Truncate(string s) => s.Length > 200 ? s[..200] + "…" : s;

    private static byte[] Encode(T obj) => Encoding.UTF8.GetBytes(KubernetesJson.Serialize(obj));

    private string? NamespaceOf(T obj) => Resource.Namespaced
        ? obj.Metadata?.NamespaceProperty ?? throw new ArgumentException($"{Resource.Kind} {obj.Metadata?.Name} has no namespace")
        : null;

    private string NameOf(T obj) => obj.Metadata?.Name is { Length: > 0 } name ? name : throw new ArgumentException($"{Resource.Kind} has no name");

    internal static string ContentType(PatchType type) => type switch
    {
        PatchType.StrategicMerge => "application/strategic-merge-patch+json",
        PatchType.JsonMerge => "application/merge-patch+json",
        PatchType.Json => "application/json-patch+json",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown patch type"),
    };
}
