using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Eviction;

/// <summary>What the eviction manager asks of the pod workers: stop a pod for good with a pod-level failure.</summary>
public interface IPodEvictor
{
    /// <summary>Stops the pod's containers within <paramref name="grace"/> and keeps it Failed with
    /// <paramref name="failure"/>'s reason and message; false when the pod is unknown, terminating or already evicted.</summary>
    bool Evict(string uid, PodFailure failure, TimeSpan grace);
}
