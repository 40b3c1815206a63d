namespace NodeAgent.Cri;

/// <summary>Bytes a cgroup read from and wrote to one block device (<c>/dev/sda</c>, or MAJOR:MINOR).</summary>
public sealed record DiskIoStats(string Device, ulong ReadBytes, ulong WriteBytes);
