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

    private static readonly Dictionary<string, string> Labels = new() { ["kubernetes.io/hostname"] = "node1", ["zone"] = "a", ["cores"] = "8" };

    private static V1Pod WithAffinity(Action<V1PodSpec> set)
    {
        var pod = Pod("p");
        set(pod.Spec);
        return pod;
    }

    private static V1NodeSelectorRequirement Req(string key, string op, params string[] values) => new() { Key = key, OperatorProperty = op, Values = values };

    private static V1Affinity Required(params V1NodeSelectorTerm[] terms) => new()
    {
        NodeAffinity = new V1NodeAffinity { RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector { NodeSelectorTerms = terms } },
    };

    public static TheoryData<string, V1Pod, bool> Affinities => new()
    {
        { "selector matches", WithAffinity(s => s.NodeSelector = new Dictionary<string, string> { ["zone"] = "a" }), true },
        { "selector differs", WithAffinity(s => s.NodeSelector = new Dictionary<string, string> { ["zone"] = "b" }), false },
        { "selector label missing", WithAffinity(s => s.NodeSelector = new Dictionary<string, string> { ["gpu"] = "yes" }), false },
        { "In", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("zone", "In", "a", "b")] })), true },
        { "NotIn", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("zone", "NotIn", "a")] })), false },
        { "Exists", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("zone", "Exists")] })), true },
        { "DoesNotExist", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("gpu", "DoesNotExist")] })), true },
        { "Gt", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("cores", "Gt", "4")] })), true },
        { "Lt", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("cores", "Lt", "4")] })), false },
        { "Gt not a number", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("zone", "Gt", "4")] })), false },
        { "unknown operator", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("zone", "Like", "a")] })), false },
        { "terms are ORed", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchExpressions = [Req("zone", "In", "z")] }, new V1NodeSelectorTerm { MatchFields = [Req("metadata.name", "In", "node1")] })), true },
        { "matchFields on another node", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm { MatchFields = [Req("metadata.name", "In", "node2")] })), false },
        { "empty term", WithAffinity(s => s.Affinity = Required(new V1NodeSelectorTerm())), false },
    };

    [Theory]
    [MemberData(nameof(Affinities))]
    public void NodeSelectorAndRequiredAffinityAreCheckedAgainstTheNodesLabels(string what, V1Pod pod, bool admitted)
    {
        var rejection = new PodAdmission(110, "node1", () => Labels).Admit(pod, []);
        if (admitted)
        {
            Assert.True(rejection is null, what);
        }
        else
        {
            Assert.Equal(new AdmissionRejection("NodeAffinity", "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector"), rejection);
        }
    }

    [Fact]
    public void APodBoundToAnotherNodeOrAskingForARuntimeClassIsRejected()
    {
        var admission = new PodAdmission(110, "node1", () => Labels);
        Assert.Equal("NodeName", admission.Admit(WithAffinity(s => s.NodeName = "node2"), [])?.Reason);
        Assert.Null(admission.Admit(WithAffinity(s => s.NodeName = "node1"), []));
        var rejection = admission.Admit(WithAffinity(s => s.RuntimeClassName = "gvisor"), []);
        Assert.Equal("UnknownRuntimeClass", rejection?.Reason);
        Assert.Contains("\"gvisor\"", rejection?.Message, StringComparison.Ordinal);
    }
}
