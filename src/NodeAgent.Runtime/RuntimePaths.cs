namespace NodeAgent.Runtime;

/// <summary>
/// The runtime's layout: containers and sandboxes under the state directory (volatile, tmpfs on a usual host), the
/// rest under the root (see <see cref="RuntimeOptions.StateDir"/>). Both may be the same directory.
/// </summary>
public sealed class RuntimePaths(string root, string state)
{
    public string Root { get; } = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));

    public string State { get; } = Path.TrimEndingDirectorySeparator(Path.GetFullPath(state));

    public string Containers => Path.Combine(State, "containers");

    public string Sandboxes => Path.Combine(State, "sandboxes");

    /// <summary>The change counter every process on this state bumps after changing it (see <c>ChangeCounter</c>).</summary>
    public string Changes => Path.Combine(State, "state.changes");

    /// <summary>The flock of one container, inside its directory: it disappears with the container.</summary>
    public string ContainerLock(string id) => Path.Combine(Containers, id, "lock");

    /// <summary>The flock of one sandbox, inside its directory: it disappears with the sandbox.</summary>
    public string SandboxLock(string id) => Path.Combine(Sandboxes, id, "lock");

    public string Container(string id) => Path.Combine(Containers, id);

    public string ContainerRootfs(string id) => Path.Combine(Containers, id, "rootfs");

    public string Sandbox(string id) => Path.Combine(Sandboxes, id);
}
