using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>KubeletConfiguration.Parse (the --config file) and the Go duration parser, directly.</summary>
public class KubeletConfigurationTests
{
    private const string Head = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

    private static KubeletConfiguration Parse(string body, out IReadOnlyList<string> warnings) =>
        KubeletConfiguration.Parse("/etc/kc.yaml", Head + body, out warnings);

    [Fact]
    public void EveryFieldIsReadWithKubeletsNames()
    {
        var c = Parse("""
            staticPodPath: /m
            staticPodURL: http://example/pods
            staticPodURLHeader:
              Authorization: ["Bearer x"]
            fileCheckFrequency: 5s
            httpCheckFrequency: 1m30s
            maxPods: 50
            readOnlyPort: 0
            address: 127.0.0.1
            clusterDNS: [10.0.0.10]
            clusterDomain: example.local
            resolvConf: /run/resolv.conf
            podCIDR: 10.88.0.0/16
            imageGCHighThresholdPercent: 90
            imageGCLowThresholdPercent: 70
            podLogsDir: /logs
            allowedUnsafeSysctls: [net.core.somaxconn, "kernel.msg*"]
            """, out var warnings);

        Assert.Empty(warnings);
        Assert.Equal("/m", c.StaticPodPath);
        Assert.Equal("http://example/pods", c.StaticPodUrl);
        Assert.Equal(["Bearer x"], c.StaticPodUrlHeader["Authorization"]);
        Assert.Equal(TimeSpan.FromSeconds(5), c.FileCheckFrequency);
        Assert.Equal(TimeSpan.FromSeconds(90), c.HttpCheckFrequency);
        Assert.Equal(50, c.MaxPods);
        Assert.Equal(0, c.ReadOnlyPort);
        Assert.Equal("127.0.0.1", c.Address);
        Assert.Equal(["10.0.0.10"], c.ClusterDns);
        Assert.Equal("example.local", c.ClusterDomain);
        Assert.Equal("/run/resolv.conf", c.ResolvConf);
        Assert.Equal("10.88.0.0/16", c.PodCidr);
        Assert.Equal(90, c.ImageGcHighThresholdPercent);
        Assert.Equal(70, c.ImageGcLowThresholdPercent);
        Assert.Equal("/logs", c.PodLogsDir);
        Assert.Equal(["net.core.somaxconn", "kernel.msg*"], c.AllowedUnsafeSysctls);
    }

    [Fact]
    public void DefaultsAreKubelets()
    {
        var c = Parse(string.Empty, out _);

        Assert.Equal(TimeSpan.FromSeconds(20), c.FileCheckFrequency);
        Assert.Equal(110, c.MaxPods);
        Assert.Equal(85, c.ImageGcHighThresholdPercent);
    }

    [Fact]
    public void UnknownFieldsAreWarningsWithTheirLine()
    {
        Parse("maxPods: 10\nfoo: bar\n", out var warnings);

        Assert.Equal("/etc/kc.yaml:4:6: foo: unknown field \"foo\" (ignored)", Assert.Single(warnings));
    }

    [Theory]
    [InlineData("maxPods: many\n", "/etc/kc.yaml:3:10: maxPods: expected an integer, found \"many\"")]
    [InlineData("maxPods: 0\n", "maxPods: 0 is out of range [1, 100000]")]
    [InlineData("fileCheckFrequency: soon\n", "fileCheckFrequency: expected a duration such as \"20s\", found \"soon\"")]
    [InlineData("fileCheckFrequency: 99999999999999999h\n", "fileCheckFrequency: expected a duration")]
    [InlineData("imageGCHighThresholdPercent: 50\nimageGCLowThresholdPercent: 60\n", "must be less than imageGCHighThresholdPercent")]
    [InlineData("clusterDNS: 10.0.0.10\n", "clusterDNS: expected a list of strings")]
    [InlineData("x: {a: [", "malformed YAML")]
    [InlineData("x: {a: b\n", "malformed YAML")]
    public void BadValuesNameTheFileAndField(string body, string expected)
    {
        var e = Assert.Throws<KubeletConfigurationException>(() => Parse(body, out _));

        Assert.StartsWith("/etc/kc.yaml", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNestingIsRefusedNotThrown()
    {
        var e = Assert.Throws<KubeletConfigurationException>(() => Parse("x: " + new string('[', 100_000) + new string(']', 100_000) + "\n", out _));

        Assert.Contains("exceeded max depth of 64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongKindIsRefused()
    {
        var e = Assert.Throws<KubeletConfigurationException>(() => KubeletConfiguration.Parse("/k", "apiVersion: v1\nkind: Pod\n", out _));

        Assert.Equal("/k: kind: expected \"KubeletConfiguration\", found \"Pod\"", e.Message);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("20s", 20_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1h", 3_600_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("250us", 0.25)]
    [InlineData("250µs", 0.25)]
    [InlineData("2000000ns", 2)]
    public void GoDurationsParse(string text, double milliseconds)
    {
        Assert.True(KubeletConfiguration.TryParseDuration(text, out var d));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), d);
    }

    [Theory]
    [InlineData("")]
    [InlineData("20")]
    [InlineData("s")]
    [InlineData("-1s")]
    [InlineData("1d")]
    [InlineData("1x2s")]
    [InlineData("99999999999999999999h")]
    public void BadDurationsAreRefusedNotThrown(string text)
    {
        Assert.False(KubeletConfiguration.TryParseDuration(text, out _));
    }
}
