using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The API server's value rules (<c>k8s.io/apimachinery/pkg/util/validation</c>) with its messages. Every regular
/// expression is anchored with <c>\A</c> and <c>\z</c>: .NET's <c>$</c> also matches before a final newline, which
/// let <c>"foo\n"</c> pass as a name.
/// </summary>
internal static partial class ValidationRules
{
    public const string LabelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    public const string SubdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    public const string IpMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
    public const string UserIdMessage = "must be between 0 and 2147483647, inclusive";

    /// <summary>An RFC 1123 label (container, volume and namespace names).</summary>
    public static bool Label(FieldErrorList errors, string path, string value)
    {
        var ok = true;
        if (value.Length > 63)
        {
            errors.Invalid(path, value, "must be no more than 63 characters");
            ok = false;
        }

        if (!LabelRegex().IsMatch(value))
        {
            errors.Invalid(path, value, LabelMessage);
            ok = false;
        }

        return ok;
    }

    /// <summary>An RFC 1123 subdomain (pod names, host names of hostAliases).</summary>
    public static bool Subdomain(FieldErrorList errors, string path, string value)
    {
        var ok = true;
        if (value.Length > 253)
        {
            errors.Invalid(path, value, "must be no more than 253 characters");
            ok = false;
        }

        if (!SubdomainRegex().IsMatch(value))
        {
            errors.Invalid(path, value, SubdomainMessage);
            ok = false;
        }

        return ok;
    }

    public static void Enum(FieldErrorList errors, string path, string? value, params string[] allowed)
    {
        if (value is not null && Array.IndexOf(allowed, value) < 0)
        {
            errors.NotSupported(path, value, allowed);
        }
    }

    /// <summary>go's <c>netutils.ParseIPSloppy</c> as the API server's <c>IsValidIP</c> uses it: a dotted quad of
    /// decimal octets or an IPv6 address, nothing else (no zone, no spaces, no hex or short IPv4 forms).</summary>
    public static bool IsIp(string value)
    {
        if (value.Length is 0 or > 45)
        {
            return false;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            return value.AsSpan().IndexOfAnyExcept("0123456789abcdefABCDEF:.") < 0
                && IPAddress.TryParse(value, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        var parts = value.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length is >= 1 and <= 3 && p.All(char.IsAsciiDigit)
            && int.Parse(p, CultureInfo.InvariantCulture) <= 255);
    }

    public static void Ip(FieldErrorList errors, string path, string value)
    {
        if (!IsIp(value))
        {
            errors.Invalid(path, value, IpMessage);
        }
    }

    public static void UserId(FieldErrorList errors, string path, long? value)
    {
        if (value is < 0 or > int.MaxValue)
        {
            errors.Invalid(path, value.Value, UserIdMessage);
        }
    }

    public static void NonNegative(FieldErrorList errors, string path, long? value)
    {
        if (value < 0)
        {
            errors.Invalid(path, value.Value, "must be greater than or equal to 0");
        }
    }

    /// <summary>An absolute path without NUL (NUL bytes are refused for every string before this).</summary>
    public static bool AbsolutePath(FieldErrorList errors, string path, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Required(path);
            return false;
        }

        if (!value.StartsWith('/'))
        {
            errors.Invalid(path, value, "must be an absolute path");
            return false;
        }

        return true;
    }

    /// <summary>go's <c>validatePathNoBacksteps</c>: no <c>..</c> element.</summary>
    public static bool NoBacksteps(FieldErrorList errors, string path, string value)
    {
        if (value.Split('/').Contains(".."))
        {
            errors.Invalid(path, value, "must not contain '..'");
            return false;
        }

        return true;
    }

    /// <summary>go's <c>IsValidPortName</c> (IANA_SVC_NAME).</summary>
    public static void PortName(FieldErrorList errors, string path, string value)
    {
        if (value.Length is 0 or > 15)
        {
            errors.Invalid(path, value, "must be no more than 15 characters");
        }

        if (!PortNameRegex().IsMatch(value))
        {
            errors.Invalid(path, value, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
        }
        else if (!value.Any(char.IsAsciiLetter))
        {
            errors.Invalid(path, value, "must contain at least one letter (a-z)");
        }
        else if (value.Contains("--", StringComparison.Ordinal))
        {
            errors.Invalid(path, value, "must not contain consecutive hyphens");
        }
        else if (value.StartsWith('-') || value.EndsWith('-'))
        {
            errors.Invalid(path, value, "must not begin or end with a hyphen");
        }
    }

    /// <summary>go's <c>IsEnvVarName</c>: printable ASCII except '=', not empty.</summary>
    public static void EnvVarName(FieldErrorList errors, string path, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Required(path);
        }
        else if (value.Any(c => c is < ' ' or > '~' or '='))
        {
            errors.Invalid(path, value, "a valid environment variable name must consist only of printable ASCII characters other than '='");
        }
    }

    /// <summary>A string that ends up in a generated file line by line (resolv.conf, hosts): no line breaks or controls.</summary>
    public static void SingleLine(FieldErrorList errors, string path, string? value)
    {
        if (value is not null && value.Any(char.IsControl))
        {
            errors.Invalid(path, value, "must not contain control characters such as newlines");
        }
    }

    [GeneratedRegex(@"\A[a-z0-9]([-a-z0-9]*[a-z0-9])?\z")]
    private static partial Regex LabelRegex();

    [GeneratedRegex(@"\A[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z")]
    private static partial Regex SubdomainRegex();

    [GeneratedRegex(@"\A[-a-z0-9]+\z")]
    private static partial Regex PortNameRegex();
}
