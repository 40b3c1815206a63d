using System.Globalization;
using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// Grace periods and other user-given durations made safe for timers. kubelet passes a grace period as int64
/// seconds and a runtime waits that long, in practice "forever" for huge values; .NET timers and
/// <see cref="Task.Delay(TimeSpan)"/> refuse more than about 49.7 days and <see cref="TimeSpan.FromSeconds(double)"/>
/// overflows near long.MaxValue seconds. Every value here saturates into [0, <see cref="MaxTimer"/>] and never throws.
/// </summary>
public static class GracePeriods
{
    /// <summary>The longest delay a .NET timer accepts (uint.MaxValue - 1 ms, about 49.7 days): "forever" here.</summary>
    public static readonly TimeSpan MaxTimer = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>kubelet's default terminationGracePeriodSeconds.</summary>
    public const long DefaultSeconds = 30;

    /// <summary>Seconds as a timer-safe duration: negative counts as 0, anything beyond <see cref="MaxTimer"/> as it.</summary>
    public static TimeSpan FromSeconds(long seconds) =>
        seconds <= 0 ? TimeSpan.Zero
        : seconds >= (long)MaxTimer.TotalSeconds ? MaxTimer
        : TimeSpan.FromSeconds(seconds);

    /// <summary>The pod's grace period: a deletion's grace when shorter (API pods), else the spec's, else 30 s.</summary>
    public static TimeSpan For(V1Pod pod)
    {
        var seconds = pod.Spec?.TerminationGracePeriodSeconds ?? DefaultSeconds;
        if (pod.Metadata?.DeletionGracePeriodSeconds is { } deletion && deletion < seconds)
        {
            seconds = deletion;
        }

        return FromSeconds(seconds);
    }

    /// <summary>A grace period read back from a container label (hostile: written by any earlier agent or by hand):
    /// garbage gives the default, out-of-range values saturate.</summary>
    public static TimeSpan FromLabel(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return FromSeconds(DefaultSeconds);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return FromSeconds(seconds);
        }

        // Digits beyond long's range are still "a very long time", not garbage.
        return value.All(char.IsAsciiDigit) ? MaxTimer : FromSeconds(DefaultSeconds);
    }

    /// <summary>Clamps any duration into what a timer accepts.</summary>
    public static TimeSpan Saturate(TimeSpan value) =>
        value <= TimeSpan.Zero ? TimeSpan.Zero : value >= MaxTimer ? MaxTimer : value;
}
