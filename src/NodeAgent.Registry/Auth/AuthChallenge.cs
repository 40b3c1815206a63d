namespace NodeAgent.Registry.Auth;

/// <summary>One <c>WWW-Authenticate</c> challenge: the scheme (<c>Basic</c>, <c>Bearer</c>) and its parameters
/// (<c>realm</c>, <c>service</c>, <c>scope</c>, <c>error</c>).</summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string name] => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>Parses the challenges of a header value: <c>Bearer realm="https://auth/token",service="reg",scope="repository:x:pull"</c>.
    /// Quoted values may contain commas and escaped quotes. Unparseable input yields no challenge.</summary>
    public static IReadOnlyList<AuthChallenge> Parse(string header)
    {
        var result = new List<AuthChallenge>();
        var i = 0;
        while (i < header.Length)
        {
            SkipSpaceAndCommas(header, ref i);
            var scheme = Token(header, ref i);
            if (scheme.Length == 0)
            {
                break;
            }
            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (i < header.Length)
            {
                SkipSpaceAndCommas(header, ref i);
                var save = i;
                var name = Token(header, ref i);
                SkipSpace(header, ref i);
                if (name.Length == 0 || i >= header.Length || header[i] != '=')
                {
                    i = save; // the next challenge's scheme
                    break;
                }
                i++;
                SkipSpace(header, ref i);
                parameters[name] = i < header.Length && header[i] == '"' ? Quoted(header, ref i) : Token(header, ref i);
            }
            result.Add(new AuthChallenge(scheme, parameters));
        }
        return result;
    }

    private static void SkipSpace(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t')
        {
            i++;
        }
    }

    private static void SkipSpaceAndCommas(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',')
        {
            i++;
        }
    }

    private static string Token(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"'))
        {
            i++;
        }
        return s[start..i];
    }

    private static string Quoted(string s, ref int i)
    {
        var sb = new System.Text.StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }
            sb.Append(s[i]);
            i++;
        }
        i++; // closing quote
        return sb.ToString();
    }
}
