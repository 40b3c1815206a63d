namespace NodeAgent.Kubelet.Config;

/// <summary>Annotation keys kubelet's config package puts on pods.</summary>
public static class ConfigAnnotations
{
    /// <summary>The source the pod came from: file, http or api.</summary>
    public const string Source = "kubernetes.io/config.source";

    /// <summary>The hash of the static pod's manifest; equal to its UID.</summary>
    public const string Hash = "kubernetes.io/config.hash";

    /// <summary>When pod config first saw the pod (RFC3339Nano).</summary>
    public const string Seen = "kubernetes.io/config.seen";

    /// <summary>Marks a mirror pod in the API server.</summary>
    public const string Mirror = "kubernetes.io/config.mirror";

    /// <summary>Annotations local to the node: changes to them are not changes of the pod.</summary>
    internal static readonly string[] Local = [Source, Mirror, Seen];
}
