using System.Globalization;

namespace NodeAgent.Server.Logs;

/// <summary>Go's time formats the kubelet writes.</summary>
public static class GoTime
{
    /// <summary>Go's <c>time.RFC3339Nano</c> in UTC: fractional seconds with trailing zeros removed (none when zero),
    /// e.g. <c>2016-10-06T00:17:09.6697942Z</c>.</summary>
    public static string Rfc3339Nano(DateTimeOffset t)
    {
        var utc = t.UtcDateTime;
        var head = utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        var ticks = utc.Ticks % TimeSpan.TicksPerSecond;
        if (ticks == 0)
        {
            return head + "Z";
        }

        // 100 ns ticks → 9 digits of nanoseconds, trailing zeros trimmed.
        var fraction = (ticks * 100).ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0');
        return $"{head}.{fraction}Z";
    }
}
