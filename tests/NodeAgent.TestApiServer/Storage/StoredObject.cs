using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;

namespace NodeAgent.TestApiServer.Storage;

/// <summary>
/// One stored object version. Immutable once stored: <see cref="Json"/> is what readers send; <see cref="Node"/> is the
/// parsed form, touched only under the store's lock (JsonNode is not safe for concurrent readers).
/// </summary>
public sealed class StoredObject
{
    public StoredObject(string ns, string name, long resourceVersion, JsonObject node)
    {
        Namespace = ns;
        Name = name;
        ResourceVersion = resourceVersion;
        Node = node;
        Json = System.Text.Encoding.UTF8.GetBytes(node.ToWire());
    }

    public string Namespace { get; }
    public string Name { get; }
    public long ResourceVersion { get; }
    public byte[] Json { get; }
    internal JsonObject Node { get; }

    /// <summary>A fresh mutable copy, parsed from the stored bytes (safe outside the lock).</summary>
    public JsonObject Parse() => JsonNode.Parse(Json)!.AsObject();
}
