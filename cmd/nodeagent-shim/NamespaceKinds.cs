using NodeAgent.Linux;

namespace NodeAgent.Shim;

internal static class NamespaceKinds
{
    public static NamespaceKind Parse(string type) => type switch
    {
        "net" or "network" => NamespaceKind.Network,
        "ipc" => NamespaceKind.Ipc,
        "uts" => NamespaceKind.Uts,
        "pid" => NamespaceKind.Pid,
        "mnt" or "mount" => NamespaceKind.Mount,
        "cgroup" => NamespaceKind.Cgroup,
        _ => throw new InvalidDataException($"unknown namespace type \"{type}\""),
    };
}
