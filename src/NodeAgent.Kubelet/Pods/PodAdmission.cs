using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>Why a pod was not admitted, in kubelet's words (reason and message become the pod's status).</summary>
public sealed record AdmissionRejection(string Reason, string Message);

/// <summary>
/// kubelet's admission of a new pod against the node's capacity. Today that is the pod count (<c>--max-pods</c>):
/// a pod beyond it fails with reason <c>OutOfpods</c>, as kubelet's resource-fit check reports it.
/// </summary>
public sealed class PodAdmission(int maxPods)
{
    public int MaxPods { get; } = maxPods;

    /// <summary>Null when <paramref name="pod"/> fits next to the <paramref name="activePods"/> already admitted.</summary>
    public AdmissionRejection? Admit(V1Pod pod, int activePods)
    {
        if (activePods + 1 > MaxPods)
        {
            return new AdmissionRejection("OutOfpods",
                $"Node didn't have enough resource: pods, requested: 1, used: {activePods}, capacity: {MaxPods}");
        }

        return null;
    }
}
