using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>User, groups, capabilities and no_new_privs, applied on the thread that will exec.</summary>
internal static class Credentials
{
    public static void Apply(ContainerSpec.ContainerSpec spec, int lastCap)
    {
        var process = spec.Process;
        var caps = Mask(spec, lastCap);

        Capabilities.DropBounding(caps, lastCap);
        ProcessControl.SetKeepCapabilities(true);
        ProcessControl.SetIdentity(process.Uid, process.Gid, process.AdditionalGids);
        ProcessControl.SetKeepCapabilities(false);

        // Root keeps the set across exec; other users lose it unless the file has capabilities, as with runc.
        Capabilities.Set(caps, caps, caps);
        if (process.NoNewPrivileges)
        {
            ProcessControl.SetNoNewPrivileges();
        }
    }

    /// <summary>
    /// For a process that applied the credentials and stays (the exec server): the sets a command has after its
    /// execve. A user other than root keeps no permitted or effective capability (the inheritable set stays, for
    /// file capabilities), as the container's init after its exec; root keeps them. What its own children get at
    /// execve does not depend on these two sets.
    /// </summary>
    public static void AsAfterExec(ContainerSpec.ContainerSpec spec, int lastCap)
    {
        if (spec.Process.Uid != 0)
        {
            Capabilities.Set(0, 0, Mask(spec, lastCap));
        }
    }

    // The runtime lists every capability, privileged containers too (those the agent holds: asking for more fails
    // capset with EPERM).
    private static ulong Mask(ContainerSpec.ContainerSpec spec, int lastCap)
    {
        var all = lastCap >= 63 ? ulong.MaxValue : (1UL << (lastCap + 1)) - 1;
        return Capabilities.ToMask(spec.Process.Capabilities, out _) & all;
    }
}
