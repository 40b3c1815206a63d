namespace NodeAgent.Runtime;

/// <summary>Where the runtime keeps its state and how it supervises containers.</summary>
public sealed record RuntimeOptions
{
    public const string DefaultRootDir = "/var/lib/nodeagent";

    public const string DefaultStateDir = "/run/nodeagent";

    /// <summary>Persistent state: images, layers, writable layers, pod network reservations (<c>--root-dir</c>).</summary>
    public string RootDir { get; init; } = DefaultRootDir;

    /// <summary>
    /// Volatile state: the directories of containers and sandboxes (bundle, rootfs mount point, namespace files,
    /// records, shim state and exit status), as containerd keeps them under <c>/run/containerd</c> and runc under
    /// <c>/run/runc</c>; none of it outlives a reboot (<c>--runtime-state-dir</c>). Null: see <see cref="ResolveStateDir"/>.
    /// </summary>
    public string? StateDir { get; init; }

    /// <summary>
    /// The state directory in use: the one given; else, with the default root, <see cref="DefaultStateDir"/>, unless
    /// the root still holds containers or sandboxes of an earlier version (which kept them there, and whose running
    /// containers must stay found); else the root itself, so agents with roots of their own never share state.
    /// </summary>
    public string ResolveStateDir() => ResolveStateDir(RootDir, StateDir, HasEntries);

    internal static string ResolveStateDir(string rootDir, string? stateDir, Func<string, bool> hasEntries)
    {
        if (!string.IsNullOrEmpty(stateDir))
        {
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(stateDir));
        }

        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rootDir));
        if (root != DefaultRootDir || hasEntries(Path.Combine(root, "containers")) || hasEntries(Path.Combine(root, "sandboxes")))
        {
            return root;
        }

        return DefaultStateDir;
    }

    private static bool HasEntries(string dir) => Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any();

    /// <summary>Path of the AOT-compiled <c>nodeagent-shim</c>; by default beside the running executable.</summary>
    public string ShimPath { get; init; } = DefaultShimPath();

    public long ContainerLogMaxSizeBytes { get; init; } = 10 * 1024 * 1024;

    public int ContainerLogMaxFiles { get; init; } = 5;

    /// <summary>
    /// Keep one exec server per container that is exec'd into (the agent: probes exec every period), instead of a
    /// one-shot helper per exec (the CLI, which execs once and exits).
    /// </summary>
    public bool ResidentExecServers { get; init; }

    public static string DefaultShimPath()
    {
        var fromEnv = Environment.GetEnvironmentVariable("NODEAGENT_SHIM");
        if (!string.IsNullOrEmpty(fromEnv))
        {
            return fromEnv;
        }

        return Path.Combine(AppContext.BaseDirectory, "nodeagent-shim");
    }
}
