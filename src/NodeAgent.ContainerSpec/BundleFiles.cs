namespace NodeAgent.ContainerSpec;

/// <summary>Names of the files in a container's state directory.</summary>
public static class BundleFiles
{
    public const string Config = "config.json";
    public const string State = "state.json";
    public const string Exit = "exit.json";
    public const string ShimLog = "shim.log";
}
