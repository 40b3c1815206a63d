namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// Help texts as component-base writes them: the stability level in brackets before the text
/// (<c>[ALPHA] Number of pods that have a running pod sandbox</c>), so dashboards and tools that read the help see
/// kubelet's lines.
/// </summary>
internal static class MetricHelp
{
    public static string Alpha(string help) => "[ALPHA] " + help;

    /// <summary>kubelet's <c>podStartupDurationBuckets</c>.</summary>
    public static readonly double[] PodStartupBuckets =
        [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600];

    /// <summary>Prometheus' (and component-base's) <c>DefBuckets</c>.</summary>
    public static readonly double[] DefaultBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>component-base's <c>ExponentialBuckets(start, factor, count)</c>.</summary>
    public static double[] Exponential(double start, double factor, int count)
    {
        var buckets = new double[count];
        for (var i = 0; i < count; i++)
        {
            buckets[i] = start * Math.Pow(factor, i);
        }

        return buckets;
    }
}
