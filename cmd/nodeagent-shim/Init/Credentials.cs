using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>User, groups, capabilities and no_new_privs, applied on the thread that will exec.</summary>
internal static class Credentials
{
    public static void Apply(ContainerSpec.ContainerSpec spec, int lastCap)
    {
        var process = spec.Process;
        var all = lastCap >= 63 ? ulong.MaxValue : (1UL << (lastCap + 1)) - 1;
        // The runtime lists every capability, privileged containers too (those the agent holds: asking for more
        // fails capset with EPERM).
        var caps = Capabilities.ToMask(process.Capabilities, out _) & all;

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
}
