using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace NodeAgent.Hosting;

/// <summary>
/// kubelet's default log format (<c>--logging-format=text</c>, klog's header), one line per entry:
/// <code>I1201 08:30:00.123456   12345 PodEventLog] event pod=default/web type=Normal reason=Started: Started container app key="value"</code>
/// Severity letter (I, W, E, F), month and day, UTC time with microseconds, the process ID padded to seven, the
/// logger's short name where klog has <c>file.go:line</c>, then the message. NodeAgent's messages are templates
/// whose values are already in the text, so the message is written as klog writes a printf-style one (unquoted),
/// and only values it does not show follow as <c>key="value"</c> (strings quoted as Go's <c>%q</c>), then the
/// exception as <c>err="…"</c>. A message with a line break is quoted, so that every entry stays one line.
/// </summary>
public sealed class KlogTextFormatter(TimeProvider time) : ConsoleFormatter(Name)
{
    public new const string Name = "klog-text";

    private static readonly int Pid = Environment.ProcessId;

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception) ?? string.Empty;
        if (message.Length == 0 && logEntry.Exception is null)
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        var sb = new StringBuilder(64 + message.Length);
        sb.Append(Severity(logEntry.LogLevel));
        sb.Append(CultureInfo.InvariantCulture, $"{now:MMdd HH:mm:ss.ffffff} {Pid,7} ");
        sb.Append(LogValues.ShortCategory(logEntry.Category)).Append("] ");
        if (message.AsSpan().IndexOfAny('\n', '\r') >= 0)
        {
            LogValues.Quote(sb, message);
        }
        else
        {
            sb.Append(message);
        }

        foreach (var (key, value) in LogValues.Extra(logEntry.State, all: false))
        {
            sb.Append(' ').Append(key).Append('=');
            AppendValue(sb, value);
        }

        if (logEntry.Exception is { } e)
        {
            sb.Append(" err=");
            LogValues.Quote(sb, e.ToString());
        }

        sb.Append('\n');
        textWriter.Write(sb.ToString());
    }

    private static char Severity(LogLevel level) => level switch
    {
        LogLevel.Warning => 'W',
        LogLevel.Error => 'E',
        LogLevel.Critical => 'F',
        _ => 'I',
    };

    private static void AppendValue(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("<nil>"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case int or long or short or byte or uint or ulong or ushort or sbyte or double or float or decimal:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
            case IFormattable f: LogValues.Quote(sb, f.ToString(null, CultureInfo.InvariantCulture)); break;
            default: LogValues.Quote(sb, value.ToString() ?? string.Empty); break;
        }
    }
}
