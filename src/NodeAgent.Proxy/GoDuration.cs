using System.Globalization;

namespace NodeAgent.Proxy;

/// <summary>Go's duration syntax as kube-proxy's flags and configuration take it: <c>1s</c>, <c>500ms</c>,
/// <c>1m30s</c>, <c>1h</c>, a bare <c>0</c>.</summary>
public static class GoDuration
{
    public static TimeSpan Parse(string value, string where)
    {
        if (value == "0")
        {
            return TimeSpan.Zero;
        }
        var total = 0.0;
        var i = 0;
        if (value.Length == 0)
        {
            throw new FormatException($"{where}: empty duration");
        }
        while (i < value.Length)
        {
            var start = i;
            while (i < value.Length && (char.IsAsciiDigit(value[i]) || value[i] == '.'))
            {
                i++;
            }
            var unitStart = i;
            while (i < value.Length && char.IsAsciiLetter(value[i]) || (i < value.Length && value[i] == 'µ'))
            {
                i++;
            }
            if (!double.TryParse(value.AsSpan(start, unitStart - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
            {
                throw new FormatException($"{where}: invalid duration \"{value}\"");
            }
            total += value[unitStart..i] switch
            {
                "h" => n * 3600e3,
                "m" => n * 60e3,
                "s" => n * 1e3,
                "ms" => n,
                "us" or "µs" => n / 1e3,
                "ns" => n / 1e6,
                _ => throw new FormatException($"{where}: invalid duration \"{value}\" (units: h, m, s, ms, us, ns)"),
            };
        }
        if (total > TimeSpan.FromDays(365).TotalMilliseconds)
        {
            throw new FormatException($"{where}: duration \"{value}\" is too long");
        }
        return TimeSpan.FromMilliseconds(total);
    }
}
