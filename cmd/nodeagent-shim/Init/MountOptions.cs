using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>mount(8)-style options split into flags, propagation and filesystem data.</summary>
internal readonly record struct MountOptions(MountFlags Flags, MountFlags Propagation, bool Recursive, string? Data, bool RecursivePropagation = false)
{
    public static MountOptions Parse(IEnumerable<string> options)
    {
        MountFlags flags = 0, propagation = 0;
        var recursive = false;
        var recursivePropagation = false;
        var data = new List<string>();
        foreach (var option in options)
        {
            switch (option)
            {
                case "ro": flags |= MountFlags.ReadOnly; break;
                case "rw": break;
                case "nosuid": flags |= MountFlags.NoSuid; break;
                case "nodev": flags |= MountFlags.NoDev; break;
                case "noexec": flags |= MountFlags.NoExec; break;
                case "strictatime": flags |= MountFlags.StrictAtime; break;
                case "relatime": flags |= MountFlags.RelAtime; break;
                case "noatime": flags |= MountFlags.NoAtime; break;
                case "bind": break;
                case "rbind": recursive = true; break;
                case "private": propagation = MountFlags.Private; recursivePropagation = false; break;
                case "rprivate": propagation = MountFlags.Private; recursivePropagation = true; break;
                case "slave": propagation = MountFlags.Slave; break;
                case "rslave": propagation = MountFlags.Slave; recursivePropagation = true; break;
                case "shared": propagation = MountFlags.Shared; break;
                case "rshared": propagation = MountFlags.Shared; recursivePropagation = true; break;
                default: data.Add(option); break;
            }
        }

        return new MountOptions(flags, propagation, recursive, data.Count == 0 ? null : string.Join(',', data), recursivePropagation);
    }
}
