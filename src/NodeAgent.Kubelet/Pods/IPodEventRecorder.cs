using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>Records a Kubernetes event about a pod (Pulled, Created, Started, Killing, BackOff, Failed…).</summary>
public interface IPodEventRecorder
{
    void Record(V1Pod pod, string type, string reason, string message, string? fieldPath = null);

    /// <summary>Forgets the pod's events: the pod is gone.</summary>
    void Forget(string podUid);
}
