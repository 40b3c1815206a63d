using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace NodeAgent.Hosting;

/// <summary>
/// kubelet's <c>--logging-format=json</c> (component-base's JSON logger), one object per line:
/// <code>{"ts":1764577800123.456,"logger":"PodEventLog","msg":"event pod=default/web …","v":0,"namespace":"default","pod":"web"}</code>
/// <c>ts</c> is milliseconds since the epoch (a float, as component-base writes it), <c>logger</c> the logger's
/// short name (component-base has <c>caller</c>, a Go file and line), <c>msg</c> the message, <c>v</c> the
/// verbosity for informational entries (0; debug 4, trace 5). Errors carry no <c>v</c> and an <c>err</c> when there
/// is an exception, as component-base writes them; entries of level warning and above also carry <c>level</c>,
/// which component-base cannot express. Every structured value of the entry follows under its lower-camel name.
/// </summary>
public sealed class JsonLogFormatter(TimeProvider time) : ConsoleFormatter(Name)
{
    public new const string Name = "klog-json";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception) ?? string.Empty;
        if (message.Length == 0 && logEntry.Exception is null)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("ts", (time.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds);
            json.WriteString("logger", LogValues.ShortCategory(logEntry.Category));
            json.WriteString("msg", message);
            switch (logEntry.LogLevel)
            {
                case LogLevel.Trace: json.WriteNumber("v", 5); break;
                case LogLevel.Debug: json.WriteNumber("v", 4); break;
                case LogLevel.Information: json.WriteNumber("v", 0); break;
                case LogLevel.Warning: json.WriteNumber("v", 0); json.WriteString("level", "warning"); break;
                default: json.WriteString("level", logEntry.LogLevel == LogLevel.Critical ? "critical" : "error"); break;
            }

            foreach (var (key, value) in LogValues.Extra(logEntry.State, all: true))
            {
                if (key is "ts" or "logger" or "msg" or "v" or "level" or "err")
                {
                    continue;
                }

                WriteValue(json, key, value);
            }

            if (logEntry.Exception is { } e)
            {
                json.WriteString("err", e.ToString());
            }

            json.WriteEndObject();
        }

        textWriter.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        textWriter.Write('\n');
    }

    private static void WriteValue(Utf8JsonWriter json, string key, object? value)
    {
        switch (value)
        {
            case null: json.WriteNull(key); break;
            case bool b: json.WriteBoolean(key, b); break;
            case int i: json.WriteNumber(key, i); break;
            case long l: json.WriteNumber(key, l); break;
            case uint u: json.WriteNumber(key, u); break;
            case ulong ul: json.WriteNumber(key, ul); break;
            case short or ushort or byte or sbyte: json.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case double d when double.IsFinite(d): json.WriteNumber(key, d); break;
            case float f when float.IsFinite(f): json.WriteNumber(key, f); break;
            case decimal m: json.WriteNumber(key, m); break;
            case IFormattable fm: json.WriteString(key, fm.ToString(null, CultureInfo.InvariantCulture)); break;
            default: json.WriteString(key, value.ToString()); break;
        }
    }
}
