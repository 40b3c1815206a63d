using System.Globalization;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// A hard eviction threshold as kubelet's <c>evictionHard</c> writes it: a signal (<c>memory.available</c>,
/// <c>nodefs.available</c>, <c>imagefs.available</c>, <c>nodefs.inodesFree</c>, <c>pid.available</c>…) below a
/// quantity or a percentage of capacity.
/// </summary>
public sealed record EvictionThreshold(string Signal, long? Quantity, double? Percentage)
{
    public const string MemoryAvailable = "memory.available";
    public const string NodeFsAvailable = "nodefs.available";
    public const string ImageFsAvailable = "imagefs.available";
    public const string PidAvailable = "pid.available";

    /// <summary>kubelet's Linux defaults: memory.available&lt;100Mi, nodefs.available&lt;10%, nodefs.inodesFree&lt;5%, imagefs.available&lt;15%.</summary>
    public static readonly IReadOnlyList<EvictionThreshold> Defaults =
    [
        new(MemoryAvailable, 100L * 1024 * 1024, null),
        new(NodeFsAvailable, null, 0.10),
        new("nodefs.inodesFree", null, 0.05),
        new(ImageFsAvailable, null, 0.15),
    ];

    private static readonly string[] Known = [MemoryAvailable, NodeFsAvailable, ImageFsAvailable, PidAvailable, "nodefs.inodesFree", "imagefs.inodesFree"];

    /// <summary>The threshold in absolute units for a resource of <paramref name="capacity"/>.</summary>
    public long Of(long capacity) => Quantity ?? (long)Math.Min(capacity * Percentage!.Value, long.MaxValue);

    /// <summary>Parses one <c>evictionHard</c> entry (<c>"100Mi"</c>, <c>"10%"</c>); null with an error when invalid.</summary>
    public static EvictionThreshold? Parse(string signal, string value, out string? error)
    {
        error = null;
        if (Array.IndexOf(Known, signal) < 0)
        {
            error = $"unknown eviction signal {signal}";
            return null;
        }

        if (value.EndsWith('%'))
        {
            if (double.TryParse(value[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var pct) && pct is >= 0 and <= 100)
            {
                return new EvictionThreshold(signal, null, pct / 100);
            }

            error = $"{signal}: invalid percentage {value}";
            return null;
        }

        if (Config.ResourceQuantityRules.TryParse(value, out var amount, out _) && amount >= 0)
        {
            return new EvictionThreshold(signal, (long)Math.Ceiling(amount), null);
        }

        error = $"{signal}: invalid quantity {value}";
        return null;
    }
}
