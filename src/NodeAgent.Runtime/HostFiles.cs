using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime;

/// <summary><see cref="IHostFiles"/> over stat(2).</summary>
public sealed class HostFiles : IHostFiles
{
    public static HostFiles Instance { get; } = new();

    public HostFileKind KindOf(string path) => FileSystemOps.KindOf(path) switch
    {
        FileKind.Missing => HostFileKind.Missing,
        FileKind.Regular => HostFileKind.Regular,
        FileKind.Directory => HostFileKind.Directory,
        FileKind.CharDevice => HostFileKind.CharDevice,
        FileKind.BlockDevice => HostFileKind.BlockDevice,
        FileKind.Fifo => HostFileKind.Fifo,
        FileKind.Socket => HostFileKind.Socket,
        _ => HostFileKind.Other,
    };
}
