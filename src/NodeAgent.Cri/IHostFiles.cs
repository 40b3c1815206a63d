namespace NodeAgent.Cri;

/// <summary>The type of a file on the host, as kubelet's host utilities report it for hostPath type checks.</summary>
public enum HostFileKind { Missing, Regular, Directory, CharDevice, BlockDevice, Fifo, Socket, Other }

/// <summary>What the kubelet may ask of the host's filesystem beyond plain file I/O (kubelet's <c>hostutil</c>):
/// the runtime's side implements it with the system calls the kubelet may not make itself.</summary>
public interface IHostFiles
{
    /// <summary>The type of the file at <paramref name="path"/>, following symlinks; Missing when absent.</summary>
    HostFileKind KindOf(string path);
}
