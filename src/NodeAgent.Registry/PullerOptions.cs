using NodeAgent.Registry.Distribution;

namespace NodeAgent.Registry;

/// <summary>Tuning of <see cref="ImagePuller"/>; the defaults are containerd's where it has one.</summary>
public sealed record PullerOptions
{
    /// <summary>Layers downloaded at once per pull (containerd: 3).</summary>
    public int MaxConcurrentDownloads { get; init; } = 3;

    /// <summary>Tries per blob when the connection is cut or stalls (the download restarts from scratch).</summary>
    public int Attempts { get; init; } = 3;

    /// <summary>A blob read that gets no data this long fails the attempt (kubelet's image pull progress deadline is 1 min).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the caller's progress reporter hears of a running pull.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a running pull is logged.</summary>
    public TimeSpan LogInterval { get; init; } = TimeSpan.FromSeconds(10);

    public PlatformMatcher Platform { get; init; } = PlatformMatcher.Host;
}
