using NodeAgent.ContainerSpec;
using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>Builds the container's mount namespace around its root filesystem, before pivot_root.</summary>
internal static class RootfsSetup
{
    public static void Prepare(ContainerSpec.ContainerSpec spec)
    {
        Namespaces.Unshare(NamespaceKind.Mount);
        // runc: the whole namespace rslave unless the spec asks otherwise (rshared when a Bidirectional mount must
        // propagate back to the host).
        Mounts.SetPropagation("/", RootPropagation(spec.RootPropagation));
        Mounts.Bind(spec.Rootfs, spec.Rootfs);
        Mounts.SetPropagation(spec.Rootfs, MountFlags.Private);

        var ownsNet = spec.Namespaces.Any(n => n.Type is "net" or "network" && n.Path is null);
        if (ownsNet)
        {
            Loopback.BringUp();
        }

        if (spec.Hostname is { } hostname)
        {
            ProcessControl.SetHostname(hostname);
        }

        foreach (var mount in spec.Mounts)
        {
            MountOne(spec, mount);
        }
    }

    private static void MountOne(ContainerSpec.ContainerSpec spec, MountSpec mount)
    {
        var target = RootfsPath.Resolve(spec.Rootfs, mount.Destination);
        var options = MountOptions.Parse(mount.Options);
        try
        {
            if (mount.Type == "bind")
            {
                var source = mount.Source ?? throw new InvalidDataException($"bind mount {mount.Destination} has no source");
                if (File.Exists(source) && !Directory.Exists(source))
                {
                    EnsureFile(target);
                }
                else
                {
                    Directory.CreateDirectory(target);
                }

                Mounts.Mount(source, target, null, MountFlags.Bind | (options.Recursive ? MountFlags.Recursive : 0));
                if ((options.Flags & ~MountFlags.Bind) != 0)
                {
                    Mounts.Mount(null, target, null, MountFlags.Bind | MountFlags.Remount | options.Flags);
                }
            }
            else
            {
                Directory.CreateDirectory(target);
                Mounts.Mount(mount.Source ?? mount.Type, target, mount.Type, options.Flags, options.Data);
                if (mount.Destination == "/dev" && mount.Type == "tmpfs")
                {
                    DevSetup.Populate(target);
                }
            }

            if (options.Propagation != 0)
            {
                Mounts.SetPropagation(target, options.Propagation, recursive: options.RecursivePropagation);
            }
        }
        catch (LinuxException ex)
        {
            throw new IOException($"mount {mount.Type} {mount.Source} on {mount.Destination}: {ex.Message}", ex);
        }
    }

    private static MountFlags RootPropagation(string? option) => option switch
    {
        "rshared" or "shared" => MountFlags.Shared,
        "rprivate" or "private" => MountFlags.Private,
        _ => MountFlags.Slave,
    };

    private static void EnsureFile(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
        {
            using (File.Create(path))
            {
            }
        }
    }

    /// <summary>After pivot_root: hide kernel paths behind empty mounts and make others read-only, as containerd's default spec does.</summary>
    public static void ProtectKernelPaths(ContainerSpec.ContainerSpec spec)
    {
        if (spec.Privileged)
        {
            return;
        }

        foreach (var path in spec.MaskedPaths)
        {
            if (Directory.Exists(path))
            {
                Mounts.Mount("tmpfs", path, "tmpfs", MountFlags.ReadOnly, "size=0");
            }
            else if (File.Exists(path))
            {
                Mounts.Mount("/dev/null", path, null, MountFlags.Bind);
            }
        }

        foreach (var path in spec.ReadonlyPaths)
        {
            if (Directory.Exists(path) || File.Exists(path))
            {
                Mounts.Mount(path, path, null, MountFlags.Bind | MountFlags.Recursive);
                Mounts.Mount(null, path, null, MountFlags.Bind | MountFlags.Remount | MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec);
            }
        }
    }
}
