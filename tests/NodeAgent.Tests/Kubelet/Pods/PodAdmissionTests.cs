using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>kubelet's admission: pod count first (OutOfpods), then host ports (the NodePorts predicate).</summary>
public sealed class PodAdmissionTests
{
    private static V1Pod Pod(string name, params (int Port, string? Protocol, string? Ip)[] ports) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Uid = name },
        Spec = new V1PodSpec
        {
            Containers =
            [
                new V1Container
                {
                    Name = "c", Image = "x",
                    Ports = ports.Select(p => new V1ContainerPort { ContainerPort = 80, HostPort = p.Port, Protocol = p.Protocol, HostIP = p.Ip }).ToList(),
                },
            ],
        },
    };

    [Theory]
    [InlineData(8080, "TCP", null, 8080, null, null, true)]
    [InlineData(8080, "TCP", "10.0.0.1", 8080, "TCP", "10.0.0.1", true)]
    [InlineData(8080, "TCP", "10.0.0.1", 8080, "TCP", null, true)]
    [InlineData(8080, "TCP", "0.0.0.0", 8080, "TCP", "10.0.0.2", true)]
    [InlineData(8080, "TCP", "10.0.0.1", 8080, "TCP", "10.0.0.2", false)]
    [InlineData(8080, "TCP", null, 8080, "UDP", null, false)]
    [InlineData(8080, "TCP", null, 8081, "TCP", null, false)]
    [InlineData(0, "TCP", null, 0, "TCP", null, false)]
    public void HostPortsConflictAsTheSchedulersNodePortsFilterSays(int usedPort, string? usedProtocol, string? usedIp, int port, string? protocol, string? ip, bool conflict)
    {
        var admission = new PodAdmission(110);
        var rejection = admission.Admit(Pod("new", (port, protocol, ip)), [Pod("old", (usedPort, usedProtocol, usedIp))]);
        if (conflict)
        {
            Assert.NotNull(rejection);
            Assert.Equal("NodePorts", rejection.Reason);
            Assert.Equal("Predicate NodePorts failed: node(s) didn't have free ports for the requested pod ports", rejection.Message);
        }
        else
        {
            Assert.Null(rejection);
        }
    }

    [Fact]
    public void ThePodCountIsCheckedFirst()
    {
        var admission = new PodAdmission(1);
        var rejection = admission.Admit(Pod("new", (8080, null, null)), [Pod("old", (8080, null, null))]);
        Assert.Equal(new AdmissionRejection("OutOfpods", "Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1"), rejection);
    }
}
