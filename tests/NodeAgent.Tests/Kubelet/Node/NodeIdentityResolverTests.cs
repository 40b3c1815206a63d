using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NodeAgent.Kubelet.Node;

namespace NodeAgent.Tests.Kubelet.Node;

/// <summary>kubelet's node name (GetHostname) and node IP (NodeAddress setter without a cloud provider) rules.</summary>
public sealed class NodeIdentityResolverTests
{
    [Theory]
    [InlineData(null, "Worker-1.Example.COM", "worker-1.example.com")]
    [InlineData("", "host", "host")]
    [InlineData("  Node-A  ", "host", "node-a")]
    [InlineData("10.0.0.5", "host", "10.0.0.5")]
    public void NodeNameIsTheOverrideOrHostNameTrimmedAndLowerCased(string? hostnameOverride, string hostName, string expected) =>
        Assert.Equal(expected, NodeIdentityResolver.NodeName(hostnameOverride, hostName));

    [Theory]
    [InlineData("   ", "host", "--hostname-override: empty hostname is invalid")]
    [InlineData(null, " ", "host name: empty hostname is invalid")]
    [InlineData("node_1", "host", "--hostname-override \"node_1\": a node name must be a lowercase RFC 1123 subdomain")]
    [InlineData("a/../../etc", "host", "--hostname-override \"a/../../etc\"")]
    [InlineData("-lead", "host", "RFC 1123")]
    [InlineData("evil\nname", "host", "--hostname-override \"evil?name\"")]
    public void BadNodeNamesAreRefusedNamingTheirSource(string? hostnameOverride, string hostName, string expected)
    {
        var e = Assert.Throws<NodeIdentityException>(() => NodeIdentityResolver.NodeName(hostnameOverride, hostName));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ALongNodeNameIsRefused() =>
        Assert.Throws<NodeIdentityException>(() => NodeIdentityResolver.NodeName(string.Join('.', Enumerable.Repeat(new string('a', 60), 5)), "h"));

    [Theory]
    [InlineData("192.0.2.10", "192.0.2.10")]
    [InlineData(" 192.0.2.10 ", "192.0.2.10")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("192.0.2.10,2001:db8::1", "192.0.2.10|2001:db8::1")]
    [InlineData("2001:db8::1,192.0.2.10", "2001:db8::1|192.0.2.10")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("::", "::")]
    public void NodeIpTakesOneAddressOrADualStackPair(string flag, string expected) =>
        Assert.Equal(expected, string.Join('|', NodeIdentityResolver.ParseNodeIp(flag)));

    [Theory]
    [InlineData("1", "could not parse \"1\"")]
    [InlineData("10.1", "could not parse \"10.1\"")]
    [InlineData("node1", "could not parse \"node1\"")]
    [InlineData("10.0.0.0/8", "could not parse")]
    [InlineData("fe80::1%eth0", "could not parse")]
    [InlineData("10.0.0.1,10.0.0.2", "must contain either a single IP or a dual-stack pair of IPs")]
    [InlineData("10.0.0.1,2001:db8::1,10.0.0.2", "must contain either a single IP or a dual-stack pair")]
    [InlineData("0.0.0.0,2001:db8::1", "may not contain \"0.0.0.0\" or \"::\"")]
    [InlineData("127.0.0.1", "can't be loopback address")]
    [InlineData("::1", "can't be loopback address")]
    [InlineData("224.0.0.1", "can't be a multicast address")]
    [InlineData("169.254.1.1", "can't be a link-local unicast address")]
    [InlineData("fe80::1", "can't be a link-local unicast address")]
    public void BadNodeIpsAreRefusedWithKubeletsReasons(string flag, string expected)
    {
        var e = Assert.Throws<NodeIdentityException>(() => NodeIdentityResolver.ParseNodeIp(flag));
        Assert.Contains("--node-ip", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AGivenNodeIpIsUsedAndWarnedAboutWhenNotLocal()
    {
        var host = new HostFacts { Addresses = [("eth0", "10.0.0.5")] };
        var warnings = new List<string>();
        var ips = await new NodeIdentityResolver(host).NodeAddressesAsync("192.0.2.10", null, "node1", warnings, CancellationToken.None);
        Assert.Equal("192.0.2.10", Assert.Single(ips).ToString());
        Assert.Contains("not found in the host's network interfaces", Assert.Single(warnings), StringComparison.Ordinal);

        warnings.Clear();
        ips = await new NodeIdentityResolver(host).NodeAddressesAsync("10.0.0.5", null, "node1", warnings, CancellationToken.None);
        Assert.Equal("10.0.0.5", Assert.Single(ips).ToString());
        Assert.Empty(warnings);
        Assert.Equal(0, host.Lookups);
    }

    [Fact]
    public async Task AnIpHostnameOverrideIsTheNodeIp()
    {
        var host = new HostFacts { Addresses = [("eth0", "10.0.0.5")], Defaults4 = ["eth0"] };
        var ips = await Resolve(host, null, "10.9.9.9");
        Assert.Equal("10.9.9.9", Assert.Single(ips).ToString());
    }

    [Fact]
    public async Task TheNodeNamesLocalValidAddressComesBeforeTheDefaultRoute()
    {
        var host = new HostFacts
        {
            Addresses = [("lo", "127.0.1.1"), ("eth0", "10.0.0.5"), ("eth1", "172.16.0.9"), ("eth1", "2001:db8::9")],
            Defaults4 = ["eth0"],
            Lookup = ["127.0.1.1", "203.0.113.1", "2001:db8::9", "172.16.0.9"],
        };

        // Loopback and non-local answers are skipped; IPv4 is preferred over an earlier IPv6 answer.
        Assert.Equal("172.16.0.9", Assert.Single(await Resolve(host, null, null)).ToString());

        // --node-ip :: prefers IPv6.
        Assert.Equal("2001:db8::9", Assert.Single(await Resolve(host, "::", null)).ToString());
    }

    [Fact]
    public async Task WithoutAUsefulLookupTheDefaultRouteInterfacesGlobalAddressIsUsed()
    {
        var host = new HostFacts
        {
            Addresses = [("eth0", "169.254.3.3"), ("eth0", "fe80::3"), ("eth1", "10.1.0.1"), ("eth2", "192.168.5.5"), ("eth2", "2001:db8::5")],
            Defaults4 = ["eth2"],
            Defaults6 = ["eth2"],
            Lookup = ["127.0.1.1"],
        };
        Assert.Equal("192.168.5.5", Assert.Single(await Resolve(host, null, null)).ToString());
        Assert.Equal("2001:db8::5", Assert.Single(await Resolve(host, "::", null)).ToString());

        // Only an IPv6 default route: its address, even though IPv4 is preferred.
        host.Defaults4 = [];
        Assert.Equal("2001:db8::5", Assert.Single(await Resolve(host, null, null)).ToString());

        // A default route on an interface with only link-local addresses gives nothing: no node IP, and a warning.
        host.Defaults4 = ["eth0"];
        host.Defaults6 = [];
        var warnings = new List<string>();
        Assert.Empty(await new NodeIdentityResolver(host).NodeAddressesAsync(null, null, "node1", warnings, CancellationToken.None));
        Assert.Contains("can't get ip address of node node1", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void RouteTablesAreReadAsTheKernelWritesThem()
    {
        const string v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
            "eth0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
            "eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n" +
            "eth9\t00000000\t0100000A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n";
        Assert.Equal(["eth0"], HostNetworkInfo.ParseIpv4Defaults(v4));
        const string v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth1\n" +
            "00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200 lo\n" +
            "20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth1\n";
        Assert.Equal(["eth1"], HostNetworkInfo.ParseIpv6Defaults(v6));
    }

    [Fact]
    public async Task OnThisHostTheDetectedDefaultRouteInterfaceIsTheOneIpRouteShows()
    {
        // The real /proc/net/route against iproute2's view of the same kernel table (read-only).
        var real = new HostNetworkInfo();
        var psi = new ProcessStartInfo("ip", "-4 route show default") { RedirectStandardOutput = true };
        using var ip = Process.Start(psi)!;
        var shown = await ip.StandardOutput.ReadToEndAsync();
        await ip.WaitForExitAsync();
        var expected = shown.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).Select(f => f[Array.IndexOf(f, "dev") + 1]).ToList();
        Assert.Equal(expected, real.DefaultRouteInterfaces(AddressFamily.InterNetwork));
    }

    private static Task<IReadOnlyList<IPAddress>> Resolve(HostFacts host, string? nodeIp, string? hostnameOverride) =>
        new NodeIdentityResolver(host).NodeAddressesAsync(nodeIp, hostnameOverride, "node1", new List<string>(), CancellationToken.None);

    /// <summary>A host described by a table of facts (addresses, default routes, what the node name resolves to).</summary>
    private sealed class HostFacts : IHostNetworkInfo
    {
        public (string Interface, string Address)[] Addresses { get; init; } = [];

        public string[] Defaults4 { get; set; } = [];

        public string[] Defaults6 { get; set; } = [];

        public string[] Lookup { get; init; } = [];

        public int Lookups { get; private set; }

        public IReadOnlyList<(string Interface, IPAddress Address)> InterfaceAddresses() =>
            Addresses.Select(a => (a.Interface, IPAddress.Parse(a.Address))).ToList();

        public IReadOnlyList<string> DefaultRouteInterfaces(AddressFamily family) => family == AddressFamily.InterNetwork ? Defaults4 : Defaults6;

        public Task<IReadOnlyList<IPAddress>> LookupAsync(string hostName, CancellationToken cancellationToken)
        {
            Lookups++;
            return Task.FromResult<IReadOnlyList<IPAddress>>(Lookup.Select(IPAddress.Parse).ToList());
        }
    }
}
