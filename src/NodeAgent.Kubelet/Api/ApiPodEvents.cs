using k8s.Models;
using NodeAgent.Kube.Events;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Api;

/// <summary>
/// Pod events in API server mode: each one is kept and logged by the local recorder (for <c>/pods</c> and the
/// agent's log) and sent to the API server through the event recorder, with kubelet's involved object (the pod's
/// UID, which for a static pod is also the value of its mirror's <c>kubernetes.io/config.mirror</c> annotation, so
/// <c>kubectl describe</c> of the mirror finds them) and field path (<c>spec.containers{name}</c>).
/// </summary>
public sealed class ApiPodEvents(IPodEventRecorder local, EventRecorder api) : IPodEventRecorder
{
    public void Record(V1Pod pod, string type, string reason, string message, string? fieldPath = null)
    {
        local.Record(pod, type, reason, message, fieldPath);
        var reference = EventRecorder.PodReference(pod);
        reference.FieldPath = fieldPath;
        reference.ResourceVersion = null;
        api.Event(reference, type, reason, message);
    }

    public void Forget(string podUid) => local.Forget(podUid);
}
