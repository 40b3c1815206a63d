namespace NodeAgent.Kubelet.Config;

/// <summary>Settings of the manifest URL source (kubelet's <c>--manifest-url</c>, <c>--manifest-url-header</c>, <c>httpCheckFrequency</c>).</summary>
public sealed class HttpPodSourceOptions
{
    /// <summary>The URL serving a Pod, a v1 PodList or multi-document YAML.</summary>
    public required Uri Url { get; set; }

    /// <summary>The node name, suffixed to static pod names.</summary>
    public required string NodeName { get; set; }

    /// <summary>Headers sent with every request; see <see cref="ManifestUrlHeaders.Parse"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Headers { get; set; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Polling period (kubelet's httpCheckFrequency).</summary>
    public TimeSpan CheckFrequency { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Timeout of one request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
