using System.Text;
using k8s;
using k8s.Models;
using NodeAgent.Kubelet.Config;
using YamlDotNet.Core;

namespace NodeAgent.Tests.Kubelet;

public class YamlJsonTests
{
    private static string Json(string yaml) => Encoding.UTF8.GetString(YamlJson.Convert(yaml).Json);

    [Theory]
    [InlineData("a: 1", "{\"a\":1}")]
    [InlineData("a: -12", "{\"a\":-12}")]
    [InlineData("a: 0x1F", "{\"a\":31}")]
    [InlineData("a: 0o17", "{\"a\":15}")]
    [InlineData("a: 017", "{\"a\":15}")]
    [InlineData("a: 0b101", "{\"a\":5}")]
    [InlineData("a: 1.10", "{\"a\":1.10}")]
    [InlineData("a: .5", "{\"a\":0.5}")]
    [InlineData("a: 1e3", "{\"a\":1e3}")]
    [InlineData("a: \"1\"", "{\"a\":\"1\"}")]
    [InlineData("a: '1'", "{\"a\":\"1\"}")]
    [InlineData("a: true", "{\"a\":true}")]
    [InlineData("a: yes", "{\"a\":true}")]
    [InlineData("a: Off", "{\"a\":false}")]
    [InlineData("a: ~", "{\"a\":null}")]
    [InlineData("a:", "{\"a\":null}")]
    [InlineData("a: 100m", "{\"a\":\"100m\"}")]
    [InlineData("a: 1.2.3", "{\"a\":\"1.2.3\"}")]
    [InlineData("a: 08", "{\"a\":8}")]
    [InlineData("a: .inf", "{\"a\":\".inf\"}")]
    [InlineData("a: [1, b, {c: d}]", "{\"a\":[1,\"b\",{\"c\":\"d\"}]}")]
    [InlineData("a: |\n  x\n  y\n", "{\"a\":\"x\\ny\\n\"}")]
    [InlineData("\"odd.key\": 1", "{\"odd.key\":1}")]
    public void ScalarsFollowKubeletsYamlToJson(string yaml, string json) => Assert.Equal(json, Json(yaml));

    [Fact]
    public void AnchorsAndAliasesAreExpanded()
    {
        Assert.Equal("{\"x\":{\"a\":1,\"b\":[2]},\"y\":{\"a\":1,\"b\":[2]},\"z\":\"s\",\"w\":\"s\"}",
            Json("x: &n {a: 1, b: [2]}\ny: *n\nz: &s s\nw: *s\n"));
    }

    [Fact]
    public void DuplicateKeysAreRejectedWithTheirPosition()
    {
        var e = Assert.ThrowsAny<YamlException>(() => YamlJson.Convert("a: 1\nb: 2\na: 3\n"));
        Assert.Equal(3, e.Start.Line);
        Assert.Contains("duplicate key \"a\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PositionsAreKeptByJsonPath()
    {
        var (_, positions) = YamlJson.Convert("spec:\n  containers:\n  - name: web\n    ports:\n    - containerPort: 80\n");
        Assert.Equal(5, positions["$.spec.containers[0].ports[0].containerPort"].Line);
        Assert.Equal(22, positions["$.spec.containers[0].ports[0].containerPort"].Column);
        Assert.Equal(3, positions["$.spec.containers[0]"].Line);
    }

    [Fact]
    public void APodDecodesWithQuantitiesAndIntOrStringPorts()
    {
        const string Yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              containers:
              - name: web
                image: busybox
                resources:
                  limits: {cpu: 1, memory: 64Mi}
                  requests: {cpu: 0.5}
                livenessProbe:
                  httpGet: {port: 8080, path: /}
                readinessProbe:
                  tcpSocket: {port: http}
            """;
        var pod = KubernetesJson.Deserialize<V1Pod>(Encoding.UTF8.GetString(YamlJson.Convert(Yaml).Json));
        var c = pod.Spec.Containers[0];
        Assert.Equal("1", c.Resources.Limits["cpu"].ToString());
        Assert.Equal("500m", c.Resources.Requests["cpu"].ToString());
        Assert.Equal("64Mi", c.Resources.Limits["memory"].ToString());
        Assert.Equal("8080", c.LivenessProbe.HttpGet.Port.Value);
        Assert.Equal("http", c.ReadinessProbe.TcpSocket.Port.Value);
    }
}
