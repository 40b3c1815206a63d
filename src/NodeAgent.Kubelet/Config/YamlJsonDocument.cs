using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace NodeAgent.Kubelet.Config;

/// <summary>One YAML document converted to JSON by <see cref="YamlJson.ConvertDocument"/>.</summary>
/// <param name="Json">The UTF-8 JSON text.</param>
/// <param name="Positions">The YAML position of each value by System.Text.Json path (<c>$.spec.containers[0]</c>).</param>
/// <param name="Root">The root node's event (an empty plain scalar for an empty document).</param>
/// <param name="RootStart">Where the root node starts.</param>
/// <param name="ParserEvents">How many events were read from the parser for it (alias replays not counted).</param>
public sealed record YamlJsonDocument(byte[] Json, IReadOnlyDictionary<string, Mark> Positions, ParsingEvent Root, Mark RootStart, long ParserEvents)
{
    /// <summary>A document holding nothing (a stray <c>---</c>): kubectl and kubelet skip it.</summary>
    public bool IsEmpty => Root is Scalar { Value.Length: 0, Style: ScalarStyle.Plain };
}
