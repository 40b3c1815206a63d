namespace NodeAgent.Linux;

/// <summary>Linux namespace types with their clone(2) flag values.</summary>
public enum NamespaceKind
{
    Mount = 0x00020000,
    Uts = 0x04000000,
    Ipc = 0x08000000,
    Pid = 0x20000000,
    Network = 0x40000000,
    Cgroup = 0x02000000,
}
