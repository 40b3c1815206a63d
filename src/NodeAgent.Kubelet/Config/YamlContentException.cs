using YamlDotNet.Core;

namespace NodeAgent.Kubelet.Config;

/// <summary>Well-formed YAML that <see cref="YamlJson"/> refuses: a duplicate or merge key, an unknown alias, nesting
/// deeper than <see cref="YamlJson.MaxDepth"/>, excessive alias expansion. The parser itself is still usable.</summary>
public sealed class YamlContentException(Mark start, Mark end, string message) : YamlException(start, end, message);
