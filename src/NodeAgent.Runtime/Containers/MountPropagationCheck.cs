using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Containers;

/// <summary>
/// containerd's CRI checks before a propagating mount (ensureShared, ensureSharedOrSlave): the host mount holding a
/// Bidirectional mount's source must be shared, a HostToContainer one's shared or a slave, otherwise nothing could
/// propagate and the container is refused (CreateContainerError) with containerd's words.
/// </summary>
public static class MountPropagationCheck
{
    /// <exception cref="RuntimeException">A source's mount has the wrong propagation, or none can be found.</exception>
    public static void Ensure(IEnumerable<VolumeMount> mounts)
    {
        foreach (var m in mounts)
        {
            if (m.Propagation == MountPropagation.Private)
            {
                continue;
            }

            MountPropagationState state;
            try
            {
                state = MountPropagationState.Of(m.HostPath);
            }
            catch (IOException e)
            {
                throw new RuntimeException(RuntimeErrorKind.CreateContainerError, $"failed to generate spec: {e.Message}");
            }

            if (m.Propagation == MountPropagation.Bidirectional && !state.Shared)
            {
                throw new RuntimeException(RuntimeErrorKind.CreateContainerError, $"failed to generate spec: path \"{m.HostPath}\" is mounted on \"{state.MountPoint}\" but it is not a shared mount");
            }

            if (m.Propagation == MountPropagation.HostToContainer && !state.Shared && !state.Slave)
            {
                throw new RuntimeException(RuntimeErrorKind.CreateContainerError, $"failed to generate spec: path \"{m.HostPath}\" is mounted on \"{state.MountPoint}\" but it is not a shared or slave mount");
            }
        }
    }

    /// <summary>containerd's root propagation: rshared with any Bidirectional mount, rslave with any HostToContainer
    /// one, else null (the runtime's default, rslave).</summary>
    public static string? RootPropagation(IEnumerable<VolumeMount> mounts)
    {
        var list = mounts.ToList();
        return list.Any(m => m.Propagation == MountPropagation.Bidirectional) ? "rshared"
            : list.Any(m => m.Propagation == MountPropagation.HostToContainer) ? "rslave"
            : null;
    }

    /// <summary>The OCI mount option for a propagation.</summary>
    public static string Option(MountPropagation propagation) => propagation switch
    {
        MountPropagation.HostToContainer => "rslave",
        MountPropagation.Bidirectional => "rshared",
        _ => "rprivate",
    };
}
