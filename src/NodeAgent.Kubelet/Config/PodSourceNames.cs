namespace NodeAgent.Kubelet.Config;

/// <summary>Source names, the values of <c>kubernetes.io/config.source</c> (kubelet's <c>kubetypes.FileSource</c>…).</summary>
public static class PodSourceNames
{
    /// <summary>Manifests in the static pod directory (<c>--pod-manifest-path</c>).</summary>
    public const string File = "file";

    /// <summary>Manifests served at <c>--manifest-url</c>.</summary>
    public const string Http = "http";

    /// <summary>Pods bound to the node by the API server.</summary>
    public const string ApiServer = "api";
}
