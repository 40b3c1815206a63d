using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// A change of one pod's published status: <see cref="Pod"/> (spec and the new status) at <see cref="Version"/>, or
/// its removal (<see cref="Pod"/> null). Versions only grow, for each pod and across pods, so a writer that already
/// wrote a higher version of a pod ignores a lower one.
/// </summary>
public sealed record PodStatusChange(string Uid, long Version, V1Pod? Pod)
{
    public bool Removed => Pod is null;
}
