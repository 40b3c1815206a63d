namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// Kubernetes' <c>$(VAR)</c> expansion for command, args and env values: a defined variable is replaced,
/// an undefined reference is kept as written, and <c>$$</c> escapes a literal <c>$</c>.
/// </summary>
public static class EnvExpansion
{
    public static string Expand(string input, Func<string, string?> lookup)
    {
        if (!input.Contains('$'))
        {
            return input;
        }

        var output = new System.Text.StringBuilder(input.Length);
        for (var i = 0; i < input.Length; i++)
        {
            var c = input[i];
            if (c != '$' || i + 1 >= input.Length)
            {
                output.Append(c);
                continue;
            }

            var next = input[i + 1];
            if (next == '$')
            {
                output.Append('$');
                i++;
            }
            else if (next == '(')
            {
                var close = input.IndexOf(')', i + 2);
                if (close < 0)
                {
                    output.Append(input, i, input.Length - i);
                    break;
                }

                var name = input.Substring(i + 2, close - i - 2);
                var value = name.Length > 0 ? lookup(name) : null;
                output.Append(value ?? input.Substring(i, close - i + 1));
                i = close;
            }
            else
            {
                output.Append(c);
            }
        }

        return output.ToString();
    }
}
