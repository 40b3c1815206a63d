using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Persistence;

/// <summary>Atomic JSON reads and writes of the runtime's records.</summary>
public static class RecordFiles
{
    public static void Write<T>(string path, T value, JsonTypeInfo<T> info) =>
        AtomicFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(value, info));

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
