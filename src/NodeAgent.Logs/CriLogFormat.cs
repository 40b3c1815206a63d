using System.Globalization;

namespace NodeAgent.Logs;

/// <summary>
/// The CRI log line format: <c>&lt;RFC3339Nano timestamp&gt; &lt;stdout|stderr&gt; &lt;F|P&gt; &lt;content&gt;\n</c>.
/// Timestamps are written in UTC with nine fractional digits (<c>2016-10-06T00:17:09.669794202Z</c>).
/// </summary>
public static class CriLogFormat
{
    /// <summary>Longest content of one physical line; longer lines are split into P chunks then an F chunk, as containerd does.</summary>
    public const int MaxLineContentBytes = 16 * 1024;

    /// <summary>Bytes of <c>yyyy-MM-ddTHH:mm:ss.nnnnnnnnnZ</c>.</summary>
    public const int TimestampLength = 30;

    public const byte FullTag = (byte)'F';
    public const byte PartialTag = (byte)'P';

    public static ReadOnlySpan<byte> StdoutName => "stdout"u8;
    public static ReadOnlySpan<byte> StderrName => "stderr"u8;

    /// <summary>Writes the timestamp into <paramref name="destination"/> (at least <see cref="TimestampLength"/> bytes); returns the bytes written.</summary>
    public static int FormatTimestamp(DateTimeOffset time, Span<byte> destination)
    {
        DateTime utc = time.UtcDateTime;
        int pos = 0;
        Digits(destination, ref pos, utc.Year, 4);
        destination[pos++] = (byte)'-';
        Digits(destination, ref pos, utc.Month, 2);
        destination[pos++] = (byte)'-';
        Digits(destination, ref pos, utc.Day, 2);
        destination[pos++] = (byte)'T';
        Digits(destination, ref pos, utc.Hour, 2);
        destination[pos++] = (byte)':';
        Digits(destination, ref pos, utc.Minute, 2);
        destination[pos++] = (byte)':';
        Digits(destination, ref pos, utc.Second, 2);
        destination[pos++] = (byte)'.';
        long nanos = (utc.Ticks % TimeSpan.TicksPerSecond) * 100;
        Digits(destination, ref pos, nanos, 9);
        destination[pos++] = (byte)'Z';
        return pos;
    }

    public static string FormatTimestamp(DateTimeOffset time)
    {
        Span<byte> buffer = stackalloc byte[TimestampLength];
        int n = FormatTimestamp(time, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer[..n]);
    }

    /// <summary>Parses an RFC 3339 timestamp with 0 to 9 fractional digits and a Z or ±hh:mm offset.</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> text, out DateTimeOffset time)
    {
        time = default;
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        if (!Num(text[..4], out int year) || !Num(text.Slice(5, 2), out int month) || !Num(text.Slice(8, 2), out int day)
            || !Num(text.Slice(11, 2), out int hour) || !Num(text.Slice(14, 2), out int minute) || !Num(text.Slice(17, 2), out int second))
        {
            return false;
        }

        int pos = 19;
        long ticks = 0;
        if (pos < text.Length && text[pos] == '.')
        {
            pos++;
            int start = pos;
            long frac = 0;
            while (pos < text.Length && text[pos] is >= (byte)'0' and <= (byte)'9')
            {
                if (pos - start < 9)
                {
                    frac = frac * 10 + (text[pos] - '0');
                }

                pos++;
            }

            int digits = Math.Min(pos - start, 9);
            if (digits == 0)
            {
                return false;
            }

            for (int i = digits; i < 9; i++)
            {
                frac *= 10;
            }

            ticks = frac / 100;
        }

        TimeSpan offset;
        ReadOnlySpan<byte> zone = text[pos..];
        if (zone.Length == 1 && zone[0] == 'Z')
        {
            offset = TimeSpan.Zero;
        }
        else if (zone.Length == 6 && zone[0] is (byte)'+' or (byte)'-' && zone[3] == ':' && Num(zone.Slice(1, 2), out int oh) && Num(zone.Slice(4, 2), out int om))
        {
            offset = new TimeSpan(oh, om, 0);
            if (zone[0] == '-')
            {
                offset = -offset;
            }
        }
        else
        {
            return false;
        }

        try
        {
            time = new DateTimeOffset(year, month, day, hour, minute, second, offset).AddTicks(ticks);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool Num(ReadOnlySpan<byte> digits, out int value) =>
        int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static void Digits(Span<byte> destination, ref int pos, long value, int width)
    {
        for (int i = width - 1; i >= 0; i--)
        {
            destination[pos + i] = (byte)('0' + (value % 10));
            value /= 10;
        }

        pos += width;
    }
}
