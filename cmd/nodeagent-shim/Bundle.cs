using System.Text.Json;
using NodeAgent.ContainerSpec;

namespace NodeAgent.Shim;

/// <summary>Reads and writes the files of a container's state directory.</summary>
internal static class Bundle
{
    public static ContainerSpec.ContainerSpec LoadSpec(string dir)
    {
        var path = Path.Combine(dir, BundleFiles.Config);
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize(stream, SpecJsonContext.Default.ContainerSpec)
            ?? throw new InvalidDataException($"{path}: empty container spec");
    }

    public static void WriteState(string dir, ShimState state) =>
        NodeAgent.Linux.AtomicFile.Write(Path.Combine(dir, BundleFiles.State), JsonSerializer.SerializeToUtf8Bytes(state, SpecJsonContext.Default.ShimState));

    public static void WriteExit(string dir, ExitStatus status) =>
        NodeAgent.Linux.AtomicFile.Write(Path.Combine(dir, BundleFiles.Exit), JsonSerializer.SerializeToUtf8Bytes(status, SpecJsonContext.Default.ExitStatus));
}
