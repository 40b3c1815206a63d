namespace NodeAgent.Runtime;

/// <summary>The runtime's layout under the state directory.</summary>
public sealed class RuntimePaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Containers => Path.Combine(Root, "containers");

    public string Sandboxes => Path.Combine(Root, "sandboxes");

    /// <summary>The change counter every process on this root bumps after changing state (see <c>ChangeCounter</c>).</summary>
    public string Changes => Path.Combine(Root, "state.changes");

    /// <summary>The flock of one container, inside its directory: it disappears with the container.</summary>
    public string ContainerLock(string id) => Path.Combine(Containers, id, "lock");

    /// <summary>The flock of one sandbox, inside its directory: it disappears with the sandbox.</summary>
    public string SandboxLock(string id) => Path.Combine(Sandboxes, id, "lock");

    public string Container(string id) => Path.Combine(Containers, id);

    public string ContainerRootfs(string id) => Path.Combine(Containers, id, "rootfs");

    public string Sandbox(string id) => Path.Combine(Sandboxes, id);
}
