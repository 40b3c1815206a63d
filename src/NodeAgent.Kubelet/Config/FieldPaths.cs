namespace NodeAgent.Kubelet.Config;

/// <summary>Turns the API server's field paths into System.Text.Json paths, to find a value's YAML position.</summary>
internal static class FieldPaths
{
    /// <summary><c>spec.containers[0].resources.limits[cpu]</c> under <c>$.items[1]</c> →
    /// <c>$.items[1].spec.containers[0].resources.limits.cpu</c>.</summary>
    public static string ToJsonPath(string root, string field)
    {
        var current = root;
        var i = 0;
        while (i < field.Length)
        {
            if (field[i] == '.')
            {
                i++;
                continue;
            }

            if (field[i] == '[')
            {
                var close = field.IndexOf(']', i);
                if (close < 0)
                {
                    break;
                }

                var key = field[(i + 1)..close];
                current = key.Length > 0 && key.All(char.IsAsciiDigit) ? $"{current}[{key}]" : YamlJson.ChildPath(current, key);
                i = close + 1;
                continue;
            }

            var end = field.IndexOfAny(['.', '['], i);
            if (end < 0)
            {
                end = field.Length;
            }

            current = YamlJson.ChildPath(current, field[i..end]);
            i = end;
        }

        return current;
    }
}
