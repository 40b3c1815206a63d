namespace NodeAgent.Linux;

/// <summary>mount(2) flags.</summary>
[Flags]
public enum MountFlags : ulong
{
    None = 0,
    ReadOnly = 1,
    NoSuid = 2,
    NoDev = 4,
    NoExec = 8,
    Remount = 32,
    NoAtime = 1024,
    Bind = 4096,
    Move = 8192,
    Recursive = 16384,
    Private = 1 << 18,
    Slave = 1 << 19,
    Shared = 1 << 20,
    RelAtime = 1 << 21,
    StrictAtime = 1 << 24,
}
