using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Config;

/// <summary>Settings of the static pod directory source (kubelet's <c>--pod-manifest-path</c>, <c>fileCheckFrequency</c>).</summary>
public sealed class FilePodSourceOptions
{
    /// <summary>A directory of manifests, or a single manifest file.</summary>
    public string ManifestPath { get; set; } = "/etc/agent/manifests";

    /// <summary>stat and non-blocking open of manifest paths (FIFOs, devices and sockets are skipped, never opened
    /// for a blocking read).</summary>
    public required IHostFiles Files { get; set; }

    /// <summary>The node name, suffixed to static pod names.</summary>
    public required string NodeName { get; set; }

    /// <summary>Full re-read period, whatever inotify reported (kubelet's fileCheckFrequency).</summary>
    public TimeSpan CheckFrequency { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Quiet time after the last change notification before re-reading, so a burst of writes is read once.</summary>
    public TimeSpan Debounce { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// How long the pods of a manifest path that disappeared are kept (with a warning) before they are removed, so
    /// that moving the directory away and back, or an editor replacing it, never restarts every static pod.
    /// kubelet drops them at once when the path does not exist; NodeAgent waits this long first.
    /// </summary>
    public TimeSpan MissingPathGrace { get; set; } = TimeSpan.FromMinutes(1);
}
