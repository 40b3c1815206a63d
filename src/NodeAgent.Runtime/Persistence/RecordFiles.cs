using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Persistence;

/// <summary>Atomic JSON reads and writes of the runtime's records.</summary>
public static class RecordFiles
{
    /// <summary>Writes the record atomically. Serialized into a buffer of its own: System.Text.Json's byte-array path
    /// rents from ArrayPool.Shared, which keeps buffers as large as the largest record (a container's environment
    /// can be MiBs) for minutes after the container is gone.</summary>
    public static void Write<T>(string path, T value, JsonTypeInfo<T> info)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        var options = info.Options;
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, Indented = options.WriteIndented, MaxDepth = options.MaxDepth }))
        {
            JsonSerializer.Serialize(writer, value, info);
        }

        AtomicFile.Write(path, buffer.WrittenSpan);
    }

    /// <summary>Reads a record; null when the file does not exist.</summary>
    public static T? Read<T>(string path, JsonTypeInfo<T> info)
        where T : class
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
            return JsonSerializer.Deserialize(stream, info);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
    }
}
