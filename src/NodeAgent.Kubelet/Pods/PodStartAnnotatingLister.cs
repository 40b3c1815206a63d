using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// The node's pods for the kubelet's own <c>/pods</c> (read-only port and kubelet API), each pod whose start was
/// measured carrying <see cref="PodStartPhases.Annotation"/> (<c>nodeagent get pods -o timing</c> reads it). The
/// annotation goes on a copy of the metadata made here, never on the pods pod config, the status writer or mirror
/// pods use: it does not reach the API server.
/// </summary>
public sealed class PodStartAnnotatingLister(IPodLister inner, PodStartTracker starts) : IPodLister
{
    public IReadOnlyList<V1Pod> ListPods()
    {
        var pods = inner.ListPods();
        var shown = new List<V1Pod>(pods.Count);
        foreach (var pod in pods)
        {
            shown.Add(pod.Metadata?.Uid is { } uid && starts.Annotation(uid) is { } value ? Annotated(pod, value) : pod);
        }

        return shown;
    }

    private static V1Pod Annotated(V1Pod pod, string value)
    {
        var m = pod.Metadata;
        var annotations = m.Annotations is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(m.Annotations, StringComparer.Ordinal);
        annotations[PodStartPhases.Annotation] = value;
        var metadata = new V1ObjectMeta
        {
            Annotations = annotations,
            CreationTimestamp = m.CreationTimestamp,
            DeletionGracePeriodSeconds = m.DeletionGracePeriodSeconds,
            DeletionTimestamp = m.DeletionTimestamp,
            Finalizers = m.Finalizers,
            GenerateName = m.GenerateName,
            Generation = m.Generation,
            Labels = m.Labels,
            ManagedFields = m.ManagedFields,
            Name = m.Name,
            NamespaceProperty = m.NamespaceProperty,
            OwnerReferences = m.OwnerReferences,
            ResourceVersion = m.ResourceVersion,
            SelfLink = m.SelfLink,
            Uid = m.Uid,
        };
        return new V1Pod { ApiVersion = pod.ApiVersion, Kind = pod.Kind, Metadata = metadata, Spec = pod.Spec, Status = pod.Status };
    }
}
