namespace NodeAgent.ContainerSpec;

/// <summary>
/// Everything the shim and the container init need to start one container, written by the runtime as
/// <c>config.json</c> in the container's state directory (in the spirit of an OCI runtime bundle).
/// </summary>
public sealed class ContainerSpec
{
    public required string Id { get; set; }

    /// <summary>Absolute path of the container's root filesystem, already mounted (overlay) in the host mount namespace.</summary>
    public required string Rootfs { get; set; }

    public required ProcessSpec Process { get; set; }

    /// <summary>Set when the container owns its UTS namespace.</summary>
    public string? Hostname { get; set; }

    /// <summary>Namespaces to create (Path null) or join (Path set). Missing kinds are shared with the host.</summary>
    public List<NamespaceSpec> Namespaces { get; set; } = [];

    /// <summary>Mounts made inside the container, in order, after the root filesystem.</summary>
    public List<MountSpec> Mounts { get; set; } = [];

    /// <summary>OCI <c>linux.rootfsPropagation</c> of the container's mount namespace ("rshared", "rslave", "rprivate");
    /// null: rslave, as runc.</summary>
    public string? RootPropagation { get; set; }

    public List<string> MaskedPaths { get; set; } = [];

    public List<string> ReadonlyPaths { get; set; } = [];

    /// <summary><c>cgroup.procs</c> files the init joins before anything else.</summary>
    public List<string> CgroupProcsFiles { get; set; } = [];

    /// <summary>Privileged containers keep every capability and see /sys and /proc/sys writable.</summary>
    public bool Privileged { get; set; }

    /// <summary>Remount the root filesystem read-only once the container's mounts are in place.</summary>
    public bool ReadonlyRootfs { get; set; }

    public LogSpec? Log { get; set; }

    /// <summary>The compiled seccomp filter (<c>struct sock_filter</c>s) in a file of the bundle, installed by the init
    /// and by every exec just before they exec; null when the container is unconfined.</summary>
    public string? SeccompFilter { get; set; }
}
