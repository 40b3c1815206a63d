using NodeAgent.ContainerSpec;

namespace NodeAgent.Shim;

/// <summary>Reads and writes the files of a container's state directory.</summary>
internal static class Bundle
{
    public static ContainerSpec.ContainerSpec LoadSpec(string dir)
    {
        var path = Path.Combine(dir, BundleFiles.Config);
        return BundleJson.ReadContainerSpec(File.ReadAllBytes(path), path);
    }

    public static void WriteState(string dir, ShimState state) =>
        NodeAgent.Linux.AtomicFile.Write(Path.Combine(dir, BundleFiles.State), BundleJson.Write(state));

    public static void WriteExit(string dir, ExitStatus status) =>
        NodeAgent.Linux.AtomicFile.Write(Path.Combine(dir, BundleFiles.Exit), BundleJson.Write(status));
}
