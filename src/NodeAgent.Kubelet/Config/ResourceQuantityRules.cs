using System.Globalization;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The API server's quantity grammar (<c>resource.ParseQuantity</c>): an optional sign, digits with at most one
/// point, then nothing, a decimal SI suffix (<c>n u m k M G T P E</c>), a binary one (<c>Ki Mi Gi Ti Pi Ei</c>) or a
/// decimal exponent (<c>e3</c>, <c>E-2</c>), with go's error messages. Stricter than the API server in one way: a
/// value whose magnitude exceeds 2^63-1 (<c>1e400</c>) is refused, because every consumer turns quantities into
/// 64-bit integers and the API server would cap or wrap it.
/// </summary>
public static class ResourceQuantityRules
{
    /// <summary>go's <c>ErrFormatWrong</c>.</summary>
    public const string FormatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

    /// <summary>go's <c>ErrNumeric</c>.</summary>
    public const string Numeric = "unable to parse quantity's numeric value";

    /// <summary>go's <c>ErrSuffix</c>.</summary>
    public const string Suffix = "unable to parse quantity's suffix";

    private const double MaxMagnitude = 9223372036854775807d;

    /// <summary>Parses <paramref name="text"/>; on success <paramref name="value"/> is its (approximate) value.</summary>
    public static bool TryParse(string text, out double value, out string? error)
    {
        value = 0;
        error = null;
        if (text.Length == 0)
        {
            error = FormatWrong;
            return false;
        }

        var pos = 0;
        var positive = true;
        if (text[0] is '+' or '-')
        {
            positive = text[0] == '+';
            pos++;
        }

        var numberStart = pos;
        while (pos < text.Length && char.IsAsciiDigit(text[pos]))
        {
            pos++;
        }

        var digits = pos - numberStart;
        if (pos < text.Length && text[pos] == '.')
        {
            pos++;
            var denomStart = pos;
            while (pos < text.Length && char.IsAsciiDigit(text[pos]))
            {
                pos++;
            }

            digits += pos - denomStart;
        }

        var number = text[numberStart..pos];
        var suffixStart = pos;
        while (pos < text.Length && "eEinumkKMGTP".Contains(text[pos], StringComparison.Ordinal))
        {
            pos++;
        }

        if (pos < text.Length && text[pos] is '+' or '-')
        {
            pos++;
        }

        while (pos < text.Length && char.IsAsciiDigit(text[pos]))
        {
            pos++;
        }

        if (pos < text.Length)
        {
            error = FormatWrong;
            return false;
        }

        if (digits == 0)
        {
            error = Numeric;
            return false;
        }

        var suffix = text[suffixStart..];
        if (!TryInterpretSuffix(suffix, out var exponentBase, out var exponent))
        {
            error = Suffix;
            return false;
        }

        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mantissa))
        {
            error = Numeric;
            return false;
        }

        var magnitude = mantissa == 0 ? 0 : mantissa * Math.Pow(exponentBase, exponent);
        if (double.IsNaN(magnitude) || magnitude > MaxMagnitude)
        {
            error = "must be no more than 9223372036854775807 (2^63-1)";
            return false;
        }

        value = positive ? magnitude : -magnitude;
        return true;
    }

    private static bool TryInterpretSuffix(string suffix, out int exponentBase, out int exponent)
    {
        exponentBase = 10;
        exponent = 0;
        switch (suffix)
        {
            case "": return true;
            case "n": exponent = -9; return true;
            case "u": exponent = -6; return true;
            case "m": exponent = -3; return true;
            case "k": exponent = 3; return true;
            case "M": exponent = 6; return true;
            case "G": exponent = 9; return true;
            case "T": exponent = 12; return true;
            case "P": exponent = 15; return true;
            case "E": exponent = 18; return true;
        }

        exponentBase = 2;
        switch (suffix)
        {
            case "Ki": exponent = 10; return true;
            case "Mi": exponent = 20; return true;
            case "Gi": exponent = 30; return true;
            case "Ti": exponent = 40; return true;
            case "Pi": exponent = 50; return true;
            case "Ei": exponent = 60; return true;
        }

        // go parses the exponent as int64 and keeps its low 32 bits; anything that large is refused by the range check.
        exponentBase = 10;
        return suffix.Length > 1 && suffix[0] is 'e' or 'E'
            && int.TryParse(suffix.AsSpan(1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent);
    }
}
