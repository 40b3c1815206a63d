namespace NodeAgent.Runtime.Containers;

/// <summary>
/// The device cgroup allowlist of Docker and containerd for unprivileged containers: any device node may be created
/// (CAP_MKNOD is in the default set) but only these may be read or written.
/// </summary>
public static class DefaultDevices
{
    public static IReadOnlyList<string> Rules { get; } =
    [
        "c *:* m", "b *:* m",
        "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
    ];
}
