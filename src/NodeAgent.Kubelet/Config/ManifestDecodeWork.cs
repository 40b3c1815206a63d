namespace NodeAgent.Kubelet.Config;

/// <summary>What decoding one manifest cost, for tests and diagnostics: every character is parsed once.</summary>
/// <param name="Documents">YAML documents (or 1 for JSON) read, empty ones included.</param>
/// <param name="ParsedCharacters">Characters handed to a YAML or JSON parser.</param>
/// <param name="YamlEvents">Events read from the YAML parser (alias replays not counted).</param>
public sealed record ManifestDecodeWork(int Documents, long ParsedCharacters, long YamlEvents)
{
    /// <summary>Nothing decoded.</summary>
    public static ManifestDecodeWork None { get; } = new(0, 0, 0);
}
