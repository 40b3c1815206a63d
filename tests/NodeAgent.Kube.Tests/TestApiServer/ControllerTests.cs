using System.Net;
using System.Text.Json.Nodes;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>The test server's scheduler and Service allocations, observed with kubectl (kubectl wait watches; nothing here sleeps).</summary>
public sealed class ControllerTests : IAsyncLifetime
{
    private TestApiServerHost _server = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_server, _dir) = await ApiServerFixture.StartPrivateAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private Task<Kubectl.Result> Run(string args, string? stdin = null) => Kubectl.RunAsync(_server.AdminKubeconfig, args, stdin);

    private async Task<Kubectl.Result> Ok(string args, string? stdin = null)
    {
        var result = await Run(args, stdin);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private const string Pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: NAME}
        spec:
          EXTRA
          containers: [{name: c, image: busybox:1}]
        """;

    [Fact]
    public async Task PodsAreBoundToAReadyNodeThatFitsWithAScheduledEvent()
    {
        await Ok("create -f -", Pod.Replace("NAME", "early").Replace("EXTRA", "nodeSelector: {disk: ssd}"));
        await Ok("wait --for=condition=PodScheduled=false pod/early --timeout=20s");
        var early = await Ok("describe pod early");
        Assert.Matches(@"Warning\s+FailedScheduling\s+.*default-scheduler\s+no nodes available to schedule pods", early.Stdout);

        const string node = """
            apiVersion: v1
            kind: Node
            metadata: {name: NAME, labels: {disk: ssd}}
            spec:
              taints: [{key: dedicated, value: gpu, effect: NoSchedule}]
            status:
              conditions: [{type: Ready, status: "True", reason: KubeletReady, message: ready}]
            """;
        await Ok("create -f -", node.Replace("NAME", "gpu1"));
        await Ok("wait --for=condition=PodScheduled=false pod/early --timeout=20s");
        var tainted = await Ok("get pod early -o jsonpath={.status.conditions[0].message}");
        Assert.Equal("0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.", tainted.Stdout);

        await Ok("create -f -", Pod.Replace("NAME", "tolerant").Replace("EXTRA", "nodeSelector: {disk: ssd}\n  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]"));
        await Ok("wait --for=jsonpath={.spec.nodeName}=gpu1 pod/tolerant --timeout=20s");
        var described = await Ok("describe pod tolerant");
        Assert.Matches(@"Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default/tolerant to gpu1", described.Stdout);

        // A node that is not Ready takes nothing; once Ready, the waiting pod lands on it.
        await Ok("create -f -", node.Replace("NAME", "plain").Replace("labels: {disk: ssd}", "labels: {disk: ssd}").Replace("  taints: [{key: dedicated, value: gpu, effect: NoSchedule}]\n", "  unschedulable: false\n").Replace("\"True\"", "\"False\""));
        await Ok("create -f -", Pod.Replace("NAME", "later").Replace("EXTRA", "nodeSelector: {disk: ssd}"));
        await Ok("wait --for=condition=PodScheduled=false pod/later --timeout=20s");
        await Ok("patch node plain --subresource=status --type=merge -p '{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"ready\"}]}}'");
        await Ok("wait --for=jsonpath={.spec.nodeName}=plain pod/later --timeout=20s");
        Assert.Equal("gpu1", (await Ok("get pod tolerant -o jsonpath={.spec.nodeName}")).Stdout);
    }

    [Fact]
    public async Task ServicesGetAClusterIpAndNodePortsAndCollisionsAreRefused()
    {
        var kubernetes = JsonNode.Parse((await Ok("get service kubernetes -o json")).Stdout)!;
        Assert.Equal("10.96.0.1", kubernetes["spec"]!["clusterIP"]!.ToString());

        await Ok("create service nodeport web --tcp=80:8080");
        var web = JsonNode.Parse((await Ok("get service web -o json")).Stdout)!;
        var ip = IPAddress.Parse(web["spec"]!["clusterIP"]!.ToString()).GetAddressBytes();
        Assert.True(ip[0] == 10 && ip[1] >= 96 && ip[1] < 112, $"cluster IP {web["spec"]!["clusterIP"]} outside 10.96.0.0/12");
        var nodePort = web["spec"]!["ports"]![0]!["nodePort"]!.GetValue<int>();
        Assert.InRange(nodePort, 30000, 32767);
        Assert.Equal(8080, web["spec"]!["ports"]![0]!["targetPort"]!.GetValue<int>());

        const string clash = """
            apiVersion: v1
            kind: Service
            metadata: {name: clash}
            spec:
              type: NodePort
              clusterIP: CLUSTERIP
              ports: [{port: 81, nodePort: NODEPORT}]
            """;
        var port = await Run("create -f -", clash.Replace("CLUSTERIP", "10.96.100.100").Replace("NODEPORT", nodePort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Contains($"Service \"clash\" is invalid: spec.ports[0].nodePort: Invalid value: {nodePort}: provided port is already allocated", port.Stderr);
        var taken = await Run("create -f -", clash.Replace("CLUSTERIP", "10.96.0.1").Replace("NODEPORT", "30999"));
        Assert.Contains("provided IP is already allocated", taken.Stderr);

        // Updates keep what was allocated, and the cluster IP cannot move.
        await Ok("label service web tier=front");
        var again = JsonNode.Parse((await Ok("get service web -o json")).Stdout)!;
        Assert.Equal(web["spec"]!["clusterIP"]!.ToString(), again["spec"]!["clusterIP"]!.ToString());
        Assert.Equal(nodePort, again["spec"]!["ports"]![0]!["nodePort"]!.GetValue<int>());
        var move = await Run("patch service web --type=merge -p '{\"spec\":{\"clusterIP\":\"10.96.7.7\"}}'");
        Assert.Contains("may not change once set", move.Stderr);
    }
}
