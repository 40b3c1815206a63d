using System.Text.RegularExpressions;

namespace NodeAgent.Proxy;

/// <summary>
/// Checks of the names the proxy writes into rule comments and hashes: namespaces and service names are DNS labels,
/// port names IANA service names (lower case letters, digits and '-'), so none can carry a quote or a space.
/// </summary>
public static partial class ApiNames
{
    public static bool IsDnsLabel(string? value) => value is { Length: > 0 and <= 63 } && DnsLabel().IsMatch(value);

    public static bool IsPortName(string? value) => value is null or "" || (value.Length <= 63 && DnsLabel().IsMatch(value));

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
