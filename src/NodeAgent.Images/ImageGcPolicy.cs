namespace NodeAgent.Images;

/// <summary>kubelet's image GC policy: when the image filesystem is at least <see cref="HighThresholdPercent"/> full,
/// free images until it is at <see cref="LowThresholdPercent"/>; never images younger than <see cref="MinAge"/>.</summary>
public sealed record ImageGcPolicy
{
    public int HighThresholdPercent { get; init; } = 85;

    public int LowThresholdPercent { get; init; } = 80;

    /// <summary>kubelet's <c>imageMinimumGCAge</c> (2 minutes): an image just pulled is not collected before its container starts.</summary>
    public TimeSpan MinAge { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws <see cref="ArgumentException"/> with kubelet's wording for an invalid policy.</summary>
    public void Validate()
    {
        if (HighThresholdPercent is < 0 or > 100)
        {
            throw new ArgumentException($"invalid HighThresholdPercent {HighThresholdPercent}, must be in range [0-100]");
        }
        if (LowThresholdPercent is < 0 or > 100)
        {
            throw new ArgumentException($"invalid LowThresholdPercent {LowThresholdPercent}, must be in range [0-100]");
        }
        if (LowThresholdPercent > HighThresholdPercent)
        {
            throw new ArgumentException($"LowThresholdPercent {LowThresholdPercent} can not be higher than HighThresholdPercent {HighThresholdPercent}");
        }
    }
}
