namespace NodeAgent.Kubelet.Config;

/// <summary>Settings of the static pod directory source (kubelet's <c>--pod-manifest-path</c>, <c>fileCheckFrequency</c>).</summary>
public sealed class FilePodSourceOptions
{
    /// <summary>A directory of manifests, or a single manifest file.</summary>
    public string ManifestPath { get; set; } = "/etc/agent/manifests";

    /// <summary>The node name, suffixed to static pod names.</summary>
    public required string NodeName { get; set; }

    /// <summary>Full re-read period, whatever inotify reported (kubelet's fileCheckFrequency).</summary>
    public TimeSpan CheckFrequency { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Quiet time after the last change notification before re-reading, so a burst of writes is read once.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(10);
}
