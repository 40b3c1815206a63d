using System.Text;

namespace NodeAgent.Kubelet.Config;

/// <summary>Values as they appear in error messages: quoted as go's <c>%q</c> does, so a newline or a control
/// character can never start a new log line, and cut after 256 characters so a huge value cannot flood the log.</summary>
public static class ValueText
{
    private const int MaxShown = 256;

    /// <summary><paramref name="value"/> between double quotes with <c>\n</c>, <c>\t</c>, <c>\"</c>, <c>\\</c> and
    /// other control characters escaped; cut after <paramref name="maxShown"/> characters (256 by default).</summary>
    public static string Quote(string value, int maxShown = MaxShown)
    {
        var shown = Math.Min(value.Length, maxShown);
        var sb = new StringBuilder(shown + 2).Append('"');
        for (var i = 0; i < shown; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || c is '\u2028' or '\u2029' or '\uFEFF')
                    {
                        sb.Append(c <= 0xFF ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
        if (value.Length > shown)
        {
            sb.Append($"…({value.Length - shown} more characters)");
        }

        return sb.ToString();
    }
}
