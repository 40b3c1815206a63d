namespace NodeAgent.Cgroups.Stats;

/// <param name="Device">The device's name (<c>/dev/sda</c>), or <c>MAJOR:MINOR</c> when /sys does not name it.</param>
public readonly record struct CgroupDeviceIo(string Device, ulong ReadBytes, ulong WriteBytes);
