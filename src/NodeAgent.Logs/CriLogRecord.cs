using System.Text;

namespace NodeAgent.Logs;

/// <summary>Parses one physical CRI log line (without its newline).</summary>
public static class CriLogRecord
{
    /// <summary>Splits <c>&lt;timestamp&gt; &lt;stream&gt; &lt;tag&gt; &lt;content&gt;</c>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out DateTimeOffset timestamp, out CriStream stream, out bool partial, out ReadOnlySpan<byte> content, out string? error)
    {
        timestamp = default;
        stream = default;
        partial = false;
        content = default;
        int sp = line.IndexOf((byte)' ');
        if (sp < 0)
        {
            error = "no space after the timestamp";
            return false;
        }

        if (!CriLogFormat.TryParseTimestamp(line[..sp], out timestamp))
        {
            error = "timestamp is not RFC 3339: \"" + Encoding.UTF8.GetString(line[..sp]) + "\"";
            return false;
        }

        ReadOnlySpan<byte> rest = line[(sp + 1)..];
        sp = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> streamName = sp < 0 ? rest : rest[..sp];
        if (streamName.SequenceEqual(CriLogFormat.StdoutName))
        {
            stream = CriStream.Stdout;
        }
        else if (streamName.SequenceEqual(CriLogFormat.StderrName))
        {
            stream = CriStream.Stderr;
        }
        else
        {
            error = "stream is neither stdout nor stderr: \"" + Encoding.UTF8.GetString(streamName) + "\"";
            return false;
        }

        if (sp < 0)
        {
            error = "no tag after the stream";
            return false;
        }

        rest = rest[(sp + 1)..];
        sp = rest.IndexOf((byte)' ');
        ReadOnlySpan<byte> tag = sp < 0 ? rest : rest[..sp];
        if (tag.Length != 1 || (tag[0] != CriLogFormat.FullTag && tag[0] != CriLogFormat.PartialTag))
        {
            error = "tag is neither F nor P: \"" + Encoding.UTF8.GetString(tag) + "\"";
            return false;
        }

        partial = tag[0] == CriLogFormat.PartialTag;
        content = sp < 0 ? default : rest[(sp + 1)..];
        error = null;
        return true;
    }
}
