namespace NodeAgent.Runtime;

/// <summary>The runtime's layout under the state directory.</summary>
public sealed class RuntimePaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Containers => Path.Combine(Root, "containers");

    public string Sandboxes => Path.Combine(Root, "sandboxes");

    public string Lock => Path.Combine(Root, "runtime.lock");

    public string Container(string id) => Path.Combine(Containers, id);

    public string ContainerRootfs(string id) => Path.Combine(Containers, id, "rootfs");

    public string Sandbox(string id) => Path.Combine(Sandboxes, id);
}
