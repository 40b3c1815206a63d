namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Parses kubelet's <c>--manifest-url-header</c> values: each is a comma-separated list of <c>Key:Value</c> pairs
/// (split at the first colon), the flag may be repeated, and values of the same key accumulate in order.
/// </summary>
public static class ManifestUrlHeaders
{
    /// <summary>Parses the flag values; throws <see cref="FormatException"/> naming the bad pair.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Parse(IEnumerable<string> flagValues)
    {
        var result = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var value in flagValues)
        {
            foreach (var pair in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    throw new FormatException($"--manifest-url-header: malformed pair \"{pair}\", expected Key:Value");
                }

                var key = pair[..colon].Trim();
                if (!result.TryGetValue(key, out var list))
                {
                    result[key] = list = [];
                }

                list.Add(pair[(colon + 1)..].Trim());
            }
        }

        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.OrdinalIgnoreCase);
    }
}
