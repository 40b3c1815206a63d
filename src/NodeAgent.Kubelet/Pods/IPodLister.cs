using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>The node's pods with their latest statuses, as the read-only API serves them.</summary>
public interface IPodLister
{
    IReadOnlyList<V1Pod> ListPods();
}
