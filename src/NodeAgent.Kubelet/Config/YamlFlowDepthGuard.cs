using YamlDotNet.Core;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// A lexical check of flow-collection nesting (<c>[</c>, <c>{</c>) made before YamlDotNet sees the text: its scanner
/// looks ahead over every open flow collection for a possible simple key, which costs time quadratic in the nesting
/// depth (20,000 levels took 1.5 s, 100,000 took 40 s) before the first event reaches <see cref="YamlJson"/>'s
/// depth limit. Brackets inside quoted scalars and comments are not counted; a bracket inside a plain scalar is, so
/// this can only refuse text whose brackets nest deeper than <see cref="YamlJson.MaxDepth"/>.
/// </summary>
public static class YamlFlowDepthGuard
{
    /// <exception cref="YamlContentException">Flow collections nest deeper than <see cref="YamlJson.MaxDepth"/>.</exception>
    public static void Check(string text)
    {
        var depth = 0;
        var line = 1;
        var lineStart = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\n':
                    line++;
                    lineStart = i + 1;
                    break;
                case '#' when i == 0 || char.IsWhiteSpace(text[i - 1]):
                    i = SkipTo(text, i, '\n') - 1;
                    break;
                case '"' or '\'' when IsTokenStart(text, i):
                    var end = SkipQuoted(text, i, c, ref line, ref lineStart);
                    i = end;
                    break;
                case '[' or '{':
                    if (++depth > YamlJson.MaxDepth)
                    {
                        var mark = new Mark(i, line, i - lineStart + 1);
                        throw new YamlContentException(mark, mark, $"exceeded max depth of {YamlJson.MaxDepth} (nested mappings and sequences)");
                    }

                    break;
                case ']' or '}':
                    depth = Math.Max(0, depth - 1);
                    break;
            }
        }
    }

    private static bool IsTokenStart(string text, int i) =>
        i == 0 || char.IsWhiteSpace(text[i - 1]) || text[i - 1] is '[' or '{' or ',' or ':' or '-' or '?';

    private static int SkipTo(string text, int i, char c)
    {
        var next = text.IndexOf(c, i);
        return next < 0 ? text.Length : next;
    }

    private static int SkipQuoted(string text, int start, char quote, ref int line, ref int lineStart)
    {
        for (var i = start + 1; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\n')
            {
                line++;
                lineStart = i + 1;
            }
            else if (quote == '"' && c == '\\')
            {
                i++;
            }
            else if (c == quote)
            {
                if (quote == '\'' && i + 1 < text.Length && text[i + 1] == '\'')
                {
                    i++;
                    continue;
                }

                return i;
            }
        }

        return text.Length;
    }
}
