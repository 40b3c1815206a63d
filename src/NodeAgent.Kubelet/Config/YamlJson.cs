using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Converts one YAML document to JSON the way kubelet reads manifests (<c>yaml.ToJSON</c>, YAML 1.1 scalar rules, no
/// target type): plain scalars become null, booleans (true/yes/on…), integers (decimal, 0x, 0o/leading-0 octal, 0b)
/// or floats; everything quoted or otherwise is a string. The API types are then decoded from JSON, so YAML and JSON
/// manifests go through one decoder. Each value's YAML position is kept by its JSON path, so a type error reported
/// by the JSON decoder (<c>$.spec.containers[0].ports[0].containerPort</c>) can be given the YAML line and column.
/// </summary>
/// <remarks>Anchors and aliases are expanded; merge keys (<c>&lt;&lt;</c>) are not supported, as in kubelet.</remarks>
public static partial class YamlJson
{
    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();

    /// <summary>Reads the next document's root node from <paramref name="parser"/> (positioned after DocumentStart).</summary>
    public static (byte[] Json, IReadOnlyDictionary<string, Mark> Positions) ConvertNode(IParser parser)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var positions = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var anchors = new Dictionary<string, List<ParsingEvent>>(StringComparer.Ordinal);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var events = new EventSource(parser, anchors);
            WriteNode(events, writer, "$", positions);
        }

        return (buffer.WrittenSpan.ToArray(), positions);
    }

    /// <summary>Converts a whole single-document YAML text.</summary>
    public static (byte[] Json, IReadOnlyDictionary<string, Mark> Positions) Convert(string yaml)
    {
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _))
        {
            return ("null"u8.ToArray(), new Dictionary<string, Mark>());
        }

        return ConvertNode(parser);
    }

    private static void WriteNode(EventSource events, Utf8JsonWriter writer, string path, Dictionary<string, Mark> positions)
    {
        var ev = events.Next();
        positions.TryAdd(path, ev.Start);
        switch (ev)
        {
            case Scalar s:
                WriteScalar(writer, s);
                break;
            case SequenceStart:
                writer.WriteStartArray();
                for (var i = 0; !events.PeekIs<SequenceEnd>(); i++)
                {
                    WriteNode(events, writer, $"{path}[{i}]", positions);
                }

                events.Next();
                writer.WriteEndArray();
                break;
            case MappingStart:
                writer.WriteStartObject();
                var seen = new HashSet<string>(StringComparer.Ordinal);
                while (!events.PeekIs<MappingEnd>())
                {
                    var keyEvent = events.Next();
                    if (keyEvent is not Scalar key)
                    {
                        throw new YamlException(keyEvent.Start, keyEvent.End, "mapping keys must be scalars");
                    }

                    if (key.Value == "<<" && key.IsPlainImplicit)
                    {
                        throw new YamlException(key.Start, key.End, "merge keys (<<) are not supported");
                    }

                    if (!seen.Add(key.Value))
                    {
                        throw new YamlException(key.Start, key.End, $"duplicate key \"{key.Value}\"");
                    }

                    writer.WritePropertyName(key.Value);
                    WriteNode(events, writer, ChildPath(path, key.Value), positions);
                }

                events.Next();
                writer.WriteEndObject();
                break;
            default:
                throw new YamlException(ev.Start, ev.End, $"unexpected {ev.GetType().Name}");
        }
    }

    // System.Text.Json's exception paths: $.name for simple names, $['odd.name'] otherwise.
    private static string ChildPath(string parent, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '$')
            ? $"{parent}.{name}"
            : $"{parent}['{name}']";

    private static void WriteScalar(Utf8JsonWriter writer, Scalar s)
    {
        if (!s.IsPlainImplicit || s.Style != ScalarStyle.Plain)
        {
            writer.WriteStringValue(s.Value);
            return;
        }

        var v = s.Value;
        switch (v)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                writer.WriteNullValue();
                return;
            case "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "y" or "Y":
                writer.WriteBooleanValue(true);
                return;
            case "false" or "False" or "FALSE" or "no" or "No" or "NO" or "off" or "Off" or "OFF" or "n" or "N":
                writer.WriteBooleanValue(false);
                return;
            case ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF" or "-.inf" or "-.Inf" or "-.INF" or ".nan" or ".NaN" or ".NAN":
                // JSON has no infinities or NaN; kubelet's converter fails on them too.
                writer.WriteStringValue(v);
                return;
        }

        if (TryInteger(v, out var integer))
        {
            writer.WriteNumberValue(integer);
        }
        else if (LooksLikeFloat(v) && double.TryParse(v.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            // Keep the literal (1.10 stays 1.10, 1e3 stays 1e3) when JSON accepts it; otherwise (08) the value.
            var literal = NormaliseFloat(v);
            if (JsonNumber().IsMatch(literal))
            {
                writer.WriteRawValue(literal, skipInputValidation: true);
            }
            else
            {
                writer.WriteNumberValue(d);
            }
        }
        else
        {
            writer.WriteStringValue(v);
        }
    }

    private static bool TryInteger(string v, out long value)
    {
        value = 0;
        var span = v.Replace("_", "").AsSpan();
        var negative = false;
        if (span.Length > 0 && span[0] is '+' or '-')
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        if (span.Length == 0)
        {
            return false;
        }

        bool ok;
        if (span.StartsWith("0x"))
        {
            ok = long.TryParse(span[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (span.StartsWith("0b"))
        {
            ok = long.TryParse(span[2..], NumberStyles.AllowBinarySpecifier, CultureInfo.InvariantCulture, out value);
        }
        else if (span.StartsWith("0o") || (span.Length > 1 && span[0] == '0' && span.IndexOfAnyExceptInRange('0', '7') < 0))
        {
            var digits = span.StartsWith("0o") ? span[2..] : span[1..];
            ok = digits.Length > 0;
            foreach (var c in digits)
            {
                if (c is < '0' or > '7' || value > long.MaxValue / 8)
                {
                    return false;
                }

                value = (value * 8) + (c - '0');
            }
        }
        else
        {
            ok = span.IndexOfAnyExceptInRange('0', '9') < 0 && long.TryParse(span, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        }

        if (ok && negative)
        {
            value = -value;
        }

        return ok;
    }

    private static bool LooksLikeFloat(string v)
    {
        var s = v.AsSpan().TrimStart("+-");
        return s.Length > 0 && (char.IsAsciiDigit(s[0]) || (s[0] == '.' && s.Length > 1 && char.IsAsciiDigit(s[1])))
            && s.IndexOfAnyExcept("0123456789._eE+-") < 0;
    }

    private static string NormaliseFloat(string v)
    {
        var s = v.Replace("_", "").TrimStart('+');
        // JSON wants a digit before and after the point.
        if (s.StartsWith('.'))
        {
            s = "0" + s;
        }
        else if (s.StartsWith("-.", StringComparison.Ordinal))
        {
            s = "-0" + s[1..];
        }

        var dot = s.IndexOf('.');
        if (dot >= 0 && (dot == s.Length - 1 || !char.IsAsciiDigit(s[dot + 1])))
        {
            s = s.Insert(dot + 1, "0");
        }

        return s;
    }

    /// <summary>Parser events with anchors recorded and aliases replayed.</summary>
    private sealed class EventSource(IParser parser, Dictionary<string, List<ParsingEvent>> anchors)
    {
        private readonly Queue<ParsingEvent> _replay = new();
        private readonly List<(string Anchor, List<ParsingEvent> Events, int Depth)> _recording = [];

        public bool PeekIs<T>() where T : ParsingEvent
        {
            if (_replay.Count > 0)
            {
                return _replay.Peek() is T;
            }

            return parser.Current is T || (parser.Current is null && parser.MoveNext() && parser.Current is T);
        }

        public ParsingEvent Next()
        {
            if (_replay.Count > 0)
            {
                return _replay.Dequeue();
            }

            var ev = parser.Current;
            if (ev is null || ev is DocumentStart)
            {
                parser.MoveNext();
                ev = parser.Current;
            }

            ev = parser.Current ?? throw new YamlException("unexpected end of YAML");
            parser.MoveNext();
            if (ev is AnchorAlias alias)
            {
                if (!anchors.TryGetValue(alias.Value.Value, out var recorded))
                {
                    throw new YamlException(alias.Start, alias.End, $"unknown anchor \"{alias.Value.Value}\"");
                }

                foreach (var r in recorded.Skip(1))
                {
                    _replay.Enqueue(r);
                }

                Record(recorded[0]);
                foreach (var r in recorded.Skip(1))
                {
                    Record(r);
                }

                return recorded[0];
            }

            Record(ev);
            return ev;
        }

        private void Record(ParsingEvent ev)
        {
            for (var i = _recording.Count - 1; i >= 0; i--)
            {
                var (anchor, list, depth) = _recording[i];
                list.Add(ev);
                depth += ev.NestingIncrease;
                if (depth == 0)
                {
                    anchors[anchor] = list;
                    _recording.RemoveAt(i);
                }
                else
                {
                    _recording[i] = (anchor, list, depth);
                }
            }

            if (ev is NodeEvent { Anchor.IsEmpty: false } node && ev is not AnchorAlias)
            {
                if (ev.NestingIncrease == 0)
                {
                    anchors[node.Anchor.Value] = [ev];
                }
                else
                {
                    _recording.Add((node.Anchor.Value, [ev], ev.NestingIncrease));
                }
            }
        }
    }
}
