using NodeAgent.ContainerSpec;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Supervision;

/// <summary>The runtime's side of the bundle files the shim reads and writes (<see cref="BundleJson"/>).</summary>
public static class Bundle
{
    public static void WriteSpec(string dir, ContainerSpec.ContainerSpec spec) =>
        AtomicFile.Write(Path.Combine(dir, BundleFiles.Config), BundleJson.Write(spec));

    public static void WriteExit(string dir, ExitStatus status) =>
        AtomicFile.Write(Path.Combine(dir, BundleFiles.Exit), BundleJson.Write(status));

    public static ContainerSpec.ContainerSpec? ReadSpec(string dir) => Read(Path.Combine(dir, BundleFiles.Config), BundleJson.ReadContainerSpec);

    public static ShimState? ReadState(string dir) => Read(Path.Combine(dir, BundleFiles.State), BundleJson.ReadShimState);

    public static ExitStatus? ReadExit(string dir) => Read(Path.Combine(dir, BundleFiles.Exit), BundleJson.ReadExitStatus);

    private delegate T Parser<T>(ReadOnlySpan<byte> json, string source);

    /// <summary>Null when the file does not exist (yet, or any more).</summary>
    private static T? Read<T>(string path, Parser<T> parse)
        where T : class
    {
        byte[] bytes;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
            bytes = new byte[file.Length];
            file.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        return parse(bytes, path);
    }
}
