namespace NodeAgent.Kubelet.Config;

/// <summary>The operations pod config emits, as kubelet's <c>kubetypes.PodOperation</c>.</summary>
public enum PodOperation
{
    /// <summary>Pods new to the node (also the initial set of each source, possibly empty, once all sources have synced).</summary>
    Add,

    /// <summary>Pods whose spec, labels or annotations changed while keeping their UID.</summary>
    Update,

    /// <summary>Pods gracefully deleted by their source (deletionTimestamp set): stop them, honouring the grace period.</summary>
    Delete,

    /// <summary>Pods that disappeared from their source's snapshot: stop and forget them.</summary>
    Remove,

    /// <summary>Pods whose only change is their status: reconcile the status, no spec change.</summary>
    Reconcile,
}
