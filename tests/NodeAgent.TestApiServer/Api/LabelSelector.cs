using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>A parsed label selector (<c>a=b,c!=d,e in (x,y),f notin (z),g,!h</c>), as <c>labels.Parse</c> reads it.</summary>
public sealed class LabelSelector
{
    private readonly List<Func<JsonObject?, bool>> _terms = [];

    public static readonly LabelSelector Everything = new();

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text))
        {
            return selector;
        }
        foreach (var raw in SplitTopLevel(text))
        {
            var term = raw.Trim();
            if (term.Length == 0)
            {
                throw ApiError.BadRequest($"unable to parse requirement: found '', expected: identifier in \"{text}\"");
            }
            var m = System.Text.RegularExpressions.Regex.Match(term, @"^([A-Za-z0-9./_-]+)\s+(in|notin)\s*\(([^)]*)\)$");
            if (m.Success)
            {
                var key = Key(m.Groups[1].Value, text);
                var values = m.Groups[3].Value.Split(',').Select(v => v.Trim()).ToHashSet(StringComparer.Ordinal);
                var isIn = m.Groups[2].Value == "in";
                selector._terms.Add(labels => Value(labels, key) is { } v ? values.Contains(v) == isIn : !isIn);
                continue;
            }
            if (term.StartsWith('!'))
            {
                var key = Key(term[1..].Trim(), text);
                selector._terms.Add(labels => Value(labels, key) is null);
                continue;
            }
            var idx = term.IndexOf("!=", StringComparison.Ordinal);
            if (idx > 0)
            {
                var key = Key(term[..idx].Trim(), text);
                var value = term[(idx + 2)..].Trim();
                selector._terms.Add(labels => Value(labels, key) != value);
                continue;
            }
            idx = term.IndexOf('=');
            if (idx > 0)
            {
                var key = Key(term[..idx].Trim(), text);
                var value = term[(idx + (term.AsSpan(idx).StartsWith("==") ? 2 : 1))..].Trim();
                selector._terms.Add(labels => Value(labels, key) == value);
                continue;
            }
            var exists = Key(term, text);
            selector._terms.Add(labels => Value(labels, exists) is not null);
        }
        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = obj["metadata"]?["labels"] as JsonObject;
        foreach (var t in _terms)
        {
            if (!t(labels))
            {
                return false;
            }
        }
        return true;
    }

    private static string? Value(JsonObject? labels, string key) => labels?[key]?.ToString();

    private static string Key(string key, string text)
    {
        if (key.Length == 0 || key.Length > 317 || !System.Text.RegularExpressions.Regex.IsMatch(key, @"^([a-z0-9.-]+/)?[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$"))
        {
            throw ApiError.BadRequest($"unable to parse requirement: invalid label key \"{key}\" in selector \"{text}\"");
        }
        return key;
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '(') depth++;
            else if (text[i] == ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }
}
