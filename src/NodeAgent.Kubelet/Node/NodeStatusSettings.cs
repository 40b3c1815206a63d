namespace NodeAgent.Kubelet.Node;

/// <summary>What node status is computed with besides the host readings: kubelet's settings and versions.</summary>
public sealed record NodeStatusSettings
{
    public int MaxPods { get; init; } = 110;

    /// <summary><c>daemonEndpoints.kubeletEndpoint.port</c> (kubelet's <c>--port</c>, 10250).</summary>
    public int KubeletPort { get; init; } = 10250;

    /// <summary><c>--kube-reserved</c> plus <c>--system-reserved</c>, by resource name (cpu in millicores, others in bytes or units).</summary>
    public IReadOnlyDictionary<string, long> Reserved { get; init; } = new Dictionary<string, long>();

    /// <summary>Hard eviction thresholds (kubelet's defaults unless <c>evictionHard</c> is given).</summary>
    public IReadOnlyList<EvictionThreshold> EvictionHard { get; init; } = EvictionThreshold.Defaults;

    /// <summary><c>containerRuntimeVersion</c>: <c>nodeagent://&lt;version&gt;</c>.</summary>
    public required string RuntimeVersion { get; init; }

    /// <summary><c>kubeletVersion</c> (what <c>kubectl get nodes</c> shows as VERSION).</summary>
    public required string KubeletVersion { get; init; }
}
