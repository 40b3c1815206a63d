using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>The quantity grammar of resource.ParseQuantity, IP parsing for rule text, and go-style quoting.</summary>
public class ValidationRulesTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("100m", 0.1)]
    [InlineData("1", 1)]
    [InlineData("+2", 2)]
    [InlineData("-1", -1)]
    [InlineData(".5", 0.5)]
    [InlineData("1.", 1)]
    [InlineData("1.5", 1.5)]
    [InlineData("1Ki", 1024)]
    [InlineData("64Mi", 67108864)]
    [InlineData("1Gi", 1073741824)]
    [InlineData("1k", 1000)]
    [InlineData("2M", 2e6)]
    [InlineData("1e3", 1000)]
    [InlineData("1E-2", 0.01)]
    [InlineData("5n", 5e-9)]
    [InlineData("7u", 7e-6)]
    [InlineData("8Ei", 9223372036854775808d)]
    public void ValidQuantitiesParse(string text, double value)
    {
        Assert.True(ResourceQuantityRules.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(value, parsed, Math.Abs(value) * 1e-12);
    }

    [Theory]
    [InlineData("", ResourceQuantityRules.FormatWrong)]
    [InlineData("1.5.5", ResourceQuantityRules.FormatWrong)]
    [InlineData("1.5.5Gi", ResourceQuantityRules.FormatWrong)]
    [InlineData("abc", ResourceQuantityRules.FormatWrong)]
    [InlineData("1gi", ResourceQuantityRules.FormatWrong)]
    [InlineData("Infinity", ResourceQuantityRules.FormatWrong)]
    [InlineData("0x10", ResourceQuantityRules.FormatWrong)]
    [InlineData(" 1", ResourceQuantityRules.FormatWrong)]
    [InlineData("1 ", ResourceQuantityRules.FormatWrong)]
    [InlineData("1\n", ResourceQuantityRules.FormatWrong)]
    [InlineData("1Ki1", ResourceQuantityRules.Suffix)]
    [InlineData("1KiB", ResourceQuantityRules.FormatWrong)]
    [InlineData("1e", ResourceQuantityRules.Suffix)]
    [InlineData("m", ResourceQuantityRules.Numeric)]
    [InlineData("1e400", "must be no more than 9223372036854775807 (2^63-1)")]
    [InlineData("16Ei", "must be no more than 9223372036854775807 (2^63-1)")]
    public void InvalidQuantitiesAreRefusedWithGoMessages(string text, string message)
    {
        Assert.False(ResourceQuantityRules.TryParse(text, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("10.9.9.9", true)]
    [InlineData("0.0.0.0", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("::1", true)]
    [InlineData("2001:db8::ffff", true)]
    [InlineData("::ffff:10.1.2.3", true)]
    [InlineData("", false)]
    [InlineData("10", false)]
    [InlineData("10.1.2", false)]
    [InlineData("256.1.1.1", false)]
    [InlineData("0x0a.0.0.1", false)]
    [InlineData("10.9.9.9\n-A OUTPUT -j ACCEPT", false)]
    [InlineData(" 10.9.9.9", false)]
    [InlineData("fe80::1%eth0", false)]
    [InlineData("example.com", false)]
    public void OnlyPlainAddressesAreIps(string value, bool valid) => Assert.Equal(valid, ValidationRules.IsIp(value));

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("a\nb", "\"a\\nb\"")]
    [InlineData("q\"\\", "\"q\\\"\\\\\"")]
    [InlineData("nul\0", "\"nul\\x00\"")]
    [InlineData("sep\u2028", "\"sep\\u2028\"")]
    public void ValuesAreQuotedOnOneLine(string value, string quoted) => Assert.Equal(quoted, ValueText.Quote(value));

    [Fact]
    public void LongValuesAreCut()
    {
        var quoted = ValueText.Quote(new string('x', 50_000));

        Assert.True(quoted.Length < 320, quoted.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.EndsWith("…(49744 more characters)", quoted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0a1b2c3d-4e5f-6789-abcd-ef0123456789", true)]
    [InlineData("1234", true)]
    [InlineData("a.b", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData(".hidden", false)]
    [InlineData("a/b", false)]
    [InlineData("a_b", false)]
    [InlineData("a\nb", false)]
    public void UidsThatNameDirectoriesAreChecked(string uid, bool valid) => Assert.Equal(valid, PodValidator.IsValidUid(uid));
}
