using System.Text.Json;
using NodeAgent.ContainerSpec;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Supervision;

/// <summary>The runtime's side of the bundle files the shim reads and writes.</summary>
public static class Bundle
{
    public static void WriteSpec(string dir, ContainerSpec.ContainerSpec spec) =>
        Persistence.RecordFiles.Write(Path.Combine(dir, BundleFiles.Config), spec, SpecJsonContext.Default.ContainerSpec);

    public static void WriteExit(string dir, ExitStatus status) =>
        AtomicFile.Write(Path.Combine(dir, BundleFiles.Exit), JsonSerializer.SerializeToUtf8Bytes(status, SpecJsonContext.Default.ExitStatus));

    public static ContainerSpec.ContainerSpec? ReadSpec(string dir) => Read(Path.Combine(dir, BundleFiles.Config), SpecJsonContext.Default.ContainerSpec);

    public static ShimState? ReadState(string dir) => Read(Path.Combine(dir, BundleFiles.State), SpecJsonContext.Default.ShimState);

    public static ExitStatus? ReadExit(string dir) => Read(Path.Combine(dir, BundleFiles.Exit), SpecJsonContext.Default.ExitStatus);

    private static T? Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> info)
        where T : class => Persistence.RecordFiles.Read(path, info);
}
