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

    /// <summary>
    /// The deepest nesting of mappings and sequences accepted (the root mapping is depth 1). System.Text.Json, which
    /// decodes the API types afterwards, allows 64 by default; go-yaml allows 10,000, which no pod needs. Deeper input
    /// is refused with "exceeded max depth of 64" before it can exhaust the stack or the JSON writer.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>Reads the next document's root node from <paramref name="parser"/> (positioned after DocumentStart).</summary>
    /// <exception cref="YamlException">Malformed YAML, an unknown alias, a duplicate or merge key, nesting deeper
    /// than <see cref="MaxDepth"/>, or excessive alias expansion.</exception>
    public static (byte[] Json, IReadOnlyDictionary<string, Mark> Positions) ConvertNode(IParser parser)
    {
        var document = ConvertDocument(parser);
        return (document.Json, document.Positions);
    }

    /// <summary>
    /// Reads one document's root node from <paramref name="parser"/> (positioned after DocumentStart, left before
    /// DocumentEnd), with the limits of <see cref="MaxDepth"/> and go-yaml's alias expansion ratio.
    /// </summary>
    /// <exception cref="YamlException">As <see cref="ConvertNode"/>.</exception>
    public static YamlJsonDocument ConvertDocument(IParser parser)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var positions = new Dictionary<string, Mark>(StringComparer.Ordinal);
        var anchors = new Dictionary<string, List<ParsingEvent>>(StringComparer.Ordinal);
        var events = new EventSource(parser, anchors);
        var root = events.PeekStart();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = MaxDepth + 1, SkipValidation = false }))
        {
            WriteNode(events, writer, "$", positions, 1);
        }

        return new YamlJsonDocument(buffer.WrittenSpan.ToArray(), positions, root.Event, root.Start, events.ParserEvents);
    }

    /// <summary>Converts a whole single-document YAML text.</summary>
    /// <exception cref="YamlException">As <see cref="ConvertNode"/>.</exception>
    public static (byte[] Json, IReadOnlyDictionary<string, Mark> Positions) Convert(string yaml)
    {
        YamlFlowDepthGuard.Check(yaml);
        var parser = new Parser(new StringReader(yaml));
        parser.Consume<StreamStart>();
        if (!parser.TryConsume<DocumentStart>(out _))
        {
            return ("null"u8.ToArray(), new Dictionary<string, Mark>());
        }

        return ConvertNode(parser);
    }

    private static void WriteNode(EventSource events, Utf8JsonWriter writer, string path, Dictionary<string, Mark> positions, int depth)
    {
        var ev = events.Next();
        if (ev is SequenceStart or MappingStart && depth > MaxDepth)
        {
            throw new YamlContentException(ev.Start, ev.End, $"exceeded max depth of {MaxDepth} (nested mappings and sequences)");
        }

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
                    WriteNode(events, writer, $"{path}[{i}]", positions, depth + 1);
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
                        throw new YamlContentException(keyEvent.Start, keyEvent.End, "mapping keys must be scalars");
                    }

                    if (key.Value == "<<" && key.IsPlainImplicit)
                    {
                        throw new YamlContentException(key.Start, key.End, "merge keys (<<) are not supported");
                    }

                    if (!seen.Add(key.Value))
                    {
                        throw new YamlContentException(key.Start, key.End, $"duplicate key \"{key.Value}\"");
                    }

                    writer.WritePropertyName(key.Value);
                    WriteNode(events, writer, ChildPath(path, key.Value), positions, depth + 1);
                }

                events.Next();
                writer.WriteEndObject();
                break;
            default:
                throw new YamlContentException(ev.Start, ev.End, $"unexpected {ev.GetType().Name}");
        }
    }

    // System.Text.Json's exception paths: $.name for simple names, $['odd.name'] otherwise.
    internal static string ChildPath(string parent, string name) =>
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

    /// <summary>
    /// Parser events with anchors recorded and aliases replayed. Alias expansion is limited as go-yaml's decoder
    /// limits it (<c>allowedAliasRatio</c>): once more than 1,000 nodes were produced and more than 100 of them came
    /// from aliases, the share of aliased nodes may not exceed 99 % up to 400,000 nodes, falling linearly to 10 % at
    /// 4,000,000 — so a "billion laughs" document is refused after a few thousand nodes instead of expanding
    /// exponentially.
    /// </summary>
    private sealed class EventSource(IParser parser, Dictionary<string, List<ParsingEvent>> anchors)
    {
        private const int AliasRatioRangeLow = 400_000;
        private const int AliasRatioRangeHigh = 4_000_000;
        private readonly Queue<ParsingEvent> _replay = new();
        private readonly List<(string Anchor, List<ParsingEvent> Events, int Depth)> _recording = [];
        private long _nodes;
        private long _aliasedNodes;

        /// <summary>Events read from the YAML parser (replayed aliases not counted): the parsing work done.</summary>
        public long ParserEvents { get; private set; }

        public (ParsingEvent Event, Mark Start) PeekStart()
        {
            var ev = parser.Current ?? throw new YamlException("unexpected end of YAML");
            return (ev, ev.Start);
        }

        public bool PeekIs<T>() where T : ParsingEvent
        {
            if (_replay.Count > 0)
            {
                return _replay.Peek() is T;
            }

            return parser.Current is T;
        }

        public ParsingEvent Next()
        {
            if (_replay.Count > 0)
            {
                var replayed = _replay.Dequeue();
                Count(replayed, aliased: true);
                return replayed;
            }

            var ev = parser.Current ?? throw new YamlException("unexpected end of YAML");
            parser.MoveNext();
            ParserEvents++;
            if (ev is AnchorAlias alias)
            {
                if (!anchors.TryGetValue(alias.Value.Value, out var recorded))
                {
                    throw new YamlContentException(alias.Start, alias.End, $"unknown anchor \"{alias.Value.Value}\"");
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

                Count(recorded[0], aliased: true);
                return recorded[0];
            }

            Record(ev);
            Count(ev, aliased: false);
            return ev;
        }

        private void Count(ParsingEvent ev, bool aliased)
        {
            if (ev is not (Scalar or MappingStart or SequenceStart))
            {
                return;
            }

            _nodes++;
            if (aliased)
            {
                _aliasedNodes++;
            }

            if (_aliasedNodes > 100 && _nodes > 1000 && (double)_aliasedNodes / _nodes > AllowedAliasRatio(_nodes))
            {
                throw new YamlContentException(ev.Start, ev.End,
                    $"document contains excessive aliasing ({_aliasedNodes} of {_nodes} nodes came from aliases; at most {AllowedAliasRatio(_nodes):P0} may)");
            }
        }

        private static double AllowedAliasRatio(long nodes) => nodes switch
        {
            <= AliasRatioRangeLow => 0.99,
            >= AliasRatioRangeHigh => 0.10,
            _ => 0.99 - (0.89 * (nodes - AliasRatioRangeLow) / (AliasRatioRangeHigh - AliasRatioRangeLow)),
        };

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
