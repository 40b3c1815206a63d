namespace NodeAgent.Cgroups;

/// <summary>A cgroup operation the kernel refused; the message names the cgroup, the file, the value and the errno text.</summary>
public sealed class CgroupException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The kernel's errno when the failure came from a syscall; 0 otherwise.</summary>
    public int Errno { get; init; }
}
