namespace NodeAgent.Kube.Api;

/// <summary>The options of a delete (<c>metav1.DeleteOptions</c>) the node side uses.</summary>
public sealed record DeleteOptions
{
    /// <summary>Grace period; kubelet deletes a pod whose containers have stopped with 0.</summary>
    public long? GracePeriodSeconds { get; init; }

    /// <summary>Only delete if the object still has this UID.</summary>
    public string? PreconditionUid { get; init; }

    /// <summary>Only delete if the object still has this resourceVersion.</summary>
    public string? PreconditionResourceVersion { get; init; }

    /// <summary><c>Orphan</c>, <c>Background</c> or <c>Foreground</c>.</summary>
    public string? PropagationPolicy { get; init; }
}
