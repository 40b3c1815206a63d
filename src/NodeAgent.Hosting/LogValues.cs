using System.Globalization;
using System.Text;

namespace NodeAgent.Hosting;

/// <summary>Helpers shared by the log formatters: state pairs not shown by the message, key spelling, quoting.</summary>
internal static class LogValues
{
    public const string OriginalFormat = "{OriginalFormat}";

    /// <summary>
    /// The structured values of an entry that its message template does not already show (a LoggerMessage template
    /// puts most values into the text itself; klog's text format would print them twice otherwise).
    /// </summary>
    public static IEnumerable<KeyValuePair<string, object?>> Extra<TState>(TState state, bool all)
    {
        if (state is not IReadOnlyList<KeyValuePair<string, object?>> pairs)
        {
            yield break;
        }

        var template = string.Empty;
        for (var i = pairs.Count - 1; i >= 0; i--)
        {
            if (pairs[i].Key == OriginalFormat)
            {
                template = pairs[i].Value as string ?? string.Empty;
                break;
            }
        }

        for (var i = 0; i < pairs.Count; i++)
        {
            var (key, value) = (pairs[i].Key, pairs[i].Value);
            if (key == OriginalFormat || (!all && InTemplate(template, key)))
            {
                continue;
            }

            yield return new(Key(key), value);
        }
    }

    /// <summary>klog's key spelling: lower camel case (<c>Pod</c> → <c>pod</c>, <c>@namespace</c> → <c>namespace</c>).</summary>
    public static string Key(string name)
    {
        name = name.TrimStart('@');
        return name.Length > 0 && char.IsUpper(name[0]) ? string.Concat(char.ToLowerInvariant(name[0]).ToString(), name.AsSpan(1)) : name;
    }

    /// <summary>The short name of a logger category: its type name without the namespace.</summary>
    public static string ShortCategory(string category)
    {
        var end = category.IndexOf('<');
        var head = end < 0 ? category : category[..end];
        var dot = head.LastIndexOf('.');
        return dot < 0 ? category : category[(dot + 1)..];
    }

    /// <summary>Go's <c>strconv.Quote</c> as klog writes string values: double quotes, escapes, one line.</summary>
    public static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c))
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    private static bool InTemplate(string template, string key)
    {
        var at = template.IndexOf("{" + key, StringComparison.Ordinal);
        while (at >= 0)
        {
            var next = at + 1 + key.Length;
            if (next < template.Length && template[next] is '}' or ':' or ',')
            {
                return true;
            }

            at = template.IndexOf("{" + key, next, StringComparison.Ordinal);
        }

        return false;
    }
}
