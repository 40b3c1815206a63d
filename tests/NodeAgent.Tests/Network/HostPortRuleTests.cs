using NodeAgent.Cri;
using NodeAgent.Network.Iptables;

namespace NodeAgent.Tests.Network;

/// <summary>hostPort values become iptables rule text only after parsing: nothing a pod spec carries is copied.</summary>
public class HostPortRuleTests
{
    [Theory]
    [InlineData("10.9.9.9\n-A OUTPUT -j ACCEPT\n#", "hostIP")]
    [InlineData("10.0.0.1 -j ACCEPT", "hostIP")]
    [InlineData("1", "hostIP")]
    [InlineData("0x7f.0.0.1", "hostIP")]
    [InlineData("10.0.0.1/8", "hostIP")]
    [InlineData("::1", "hostIP")]
    [InlineData("256.1.1.1", "hostIP")]
    public void Invalid_host_addresses_are_refused(string hostIp, string field)
    {
        var ok = HostPortRule.TryParse(new PortMapping { HostPort = 80, ContainerPort = 80, HostIp = hostIp }, "10.88.0.2", out _, out var error);
        Assert.False(ok);
        Assert.StartsWith(field, error);
        Assert.DoesNotContain('\n', error);
    }

    [Theory]
    [InlineData("TCP", 0, 80, "hostPort 0")]
    [InlineData("TCP", 65536, 80, "hostPort 65536")]
    [InlineData("TCP", 80, -1, "containerPort -1")]
    [InlineData("tcp -j ACCEPT", 80, 80, "protocol")]
    [InlineData("ICMP", 80, 80, "protocol")]
    public void Invalid_ports_and_protocols_are_refused(string protocol, int hostPort, int containerPort, string expected)
    {
        Assert.False(HostPortRule.TryParse(new PortMapping { Protocol = protocol, HostPort = hostPort, ContainerPort = containerPort }, "10.88.0.2", out _, out var error));
        Assert.StartsWith(expected, error);
    }

    [Fact]
    public void A_valid_mapping_is_formatted_from_parsed_values()
    {
        Assert.True(HostPortRule.TryParse(new PortMapping { Protocol = "UDP", HostPort = 5353, ContainerPort = 53, HostIp = "192.168.1.10" }, "10.88.0.7", out var rule, out _));
        Assert.Equal("-d 192.168.1.10/32 -p udp -m udp --dport 5353", rule.Match());
        Assert.Equal("10.88.0.7:53", rule.Destination());
    }

    [Fact]
    public void Any_address_publishes_on_every_node_address()
    {
        Assert.True(HostPortRule.TryParse(new PortMapping { HostPort = 8080, ContainerPort = 80, HostIp = "0.0.0.0" }, "10.88.0.7", out var rule, out _));
        Assert.Equal("-p tcp -m tcp --dport 8080", rule.Match());
    }
}
