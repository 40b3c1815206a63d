namespace NodeAgent.Kubelet.Config;

/// <summary>Size limits on manifests, as the API server limits requests.</summary>
public static class ManifestLimits
{
    /// <summary>
    /// The largest manifest file or URL body read: 3 MiB, the API server's limit on a request body
    /// (<c>MaxRequestBodyBytes</c>). A larger file is refused without being read past the limit.
    /// </summary>
    public const int MaxManifestBytes = 3 * 1024 * 1024;
}
