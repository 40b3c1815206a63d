using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using k8s;

namespace NodeAgent.Kubelet;

/// <summary>
/// Kubernetes objects to and from JSON through buffers of the caller's own, with <see cref="KubernetesJson"/>'s
/// options (the same bytes as <see cref="KubernetesJson.Serialize"/>). System.Text.Json's string and byte-array
/// paths rent their buffers from <see cref="ArrayPool{T}.Shared"/>, as large as the largest object they write, and
/// the shared pool keeps such buffers in per-thread and per-core slots for minutes (until several gen-2 collections
/// have seen them unused): a node that once ran a large pod would keep tens of MiB after it was removed (issue #10).
/// </summary>
internal static class UnpooledJson
{
    private static readonly JsonSerializerOptions Options = KubernetesOptions();

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = Options.Encoder,
        Indented = Options.WriteIndented,
        MaxDepth = Options.MaxDepth,
    };

    /// <summary>The type's contract under KubernetesJson's options.</summary>
    public static JsonTypeInfo<T> Info<T>() => (JsonTypeInfo<T>)Options.GetTypeInfo(typeof(T));

    /// <summary>The value as UTF-8 JSON in a buffer of its own.</summary>
    public static ArrayBufferWriter<byte> Write<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            JsonSerializer.Serialize(writer, value, Info<T>());
        }

        return buffer;
    }

    /// <summary>A deep copy through JSON.</summary>
    public static T Clone<T>(T value) => JsonSerializer.Deserialize(Write(value).WrittenSpan, Info<T>())
        ?? throw new JsonException($"{typeof(T).Name} serialized as null");

    /// <summary>Whether both serialize to the same JSON.</summary>
    public static bool SameJson<T>(T? a, T? b) where T : class =>
        a is null || b is null ? a is null && b is null : Write(a).WrittenSpan.SequenceEqual(Write(b).WrittenSpan);

    private static JsonSerializerOptions KubernetesOptions()
    {
        JsonSerializerOptions? options = null;
        KubernetesJson.AddJsonOptions(o => options = o);
        return options ?? throw new InvalidOperationException("KubernetesJson did not expose its serializer options");
    }
}
