using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>Reading numbers and booleans from JsonNodes whatever CLR type they were built with (parsed or in-memory), without throwing on hostile input.</summary>
public static class JsonValues
{
    /// <summary>Output as Go's encoder writes it: quotes and non-ASCII text unescaped (HTML-sensitive characters still escaped).</summary>
    public static readonly JsonSerializerOptions Wire = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ToWire(this JsonNode node) => node.ToJsonString(Wire);

    public static long? AsLong(this JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && long.TryParse(v.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null;

    public static int? AsInt(this JsonNode? node) => node.AsLong() is { } l && l is >= int.MinValue and <= int.MaxValue ? (int)l : null;

    public static bool? AsBool(this JsonNode? node) =>
        node is JsonValue v ? v.GetValueKind() switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } : null;
}
