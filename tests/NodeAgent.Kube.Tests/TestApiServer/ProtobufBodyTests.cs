using System.Text;
using System.Text.Json.Nodes;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>Protobuf request bodies for the new types, hand-encoded: understood fields decode, unknown ones are refused.</summary>
public sealed class ProtobufBodyTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>
{
    private static byte[] Tag(int field, int wire) => Varint((ulong)((field << 3) | wire));

    private static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        do
        {
            var b = (byte)(v & 0x7f);
            v >>= 7;
            bytes.Add(v != 0 ? (byte)(b | 0x80) : b);
        }
        while (v != 0);
        return [.. bytes];
    }

    private static byte[] Bytes(int field, byte[] value) => [.. Tag(field, 2), .. Varint((ulong)value.Length), .. value];

    private static byte[] Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    private static byte[] Number(int field, ulong value) => [.. Tag(field, 0), .. Varint(value)];

    /// <summary>The "k8s\0" prefix and the runtime.Unknown envelope around an object message.</summary>
    private static byte[] Envelope(string apiVersion, string kind, byte[] raw) =>
        [.. "k8s\0"u8.ToArray(), .. Bytes(1, [.. Text(1, apiVersion), .. Text(2, kind)]), .. Bytes(2, raw)];

    /// <summary>The answer's code and body; for an error, the Status message as the body's "message".</summary>
    private async Task<(int Code, JsonNode Body)> Post(string path, byte[] body)
    {
        using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig));
        try
        {
            using var response = await connection.SendAsync(HttpMethod.Post, path, body, "application/vnd.kubernetes.protobuf", false, CancellationToken.None);
            return ((int)response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }
        catch (ApiException e)
        {
            return ((int)e.StatusCode, new JsonObject { ["message"] = e.Status?.Message });
        }
    }

    [Fact]
    public async Task ASelfSubjectAccessReviewDecodesAndAnUnknownFieldIsRefused()
    {
        var attributes = Bytes(1, [.. Text(2, "get"), .. Text(5, "nodes"), .. Text(6, "proxy")]);
        var review = Envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", [.. Bytes(1, []), .. Bytes(2, attributes), .. Bytes(3, Number(1, 0))]);
        var (code, body) = await Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review);
        Assert.Equal(201, code);
        Assert.True(body["status"]!["allowed"]!.GetValue<bool>());
        Assert.Equal("proxy", body["spec"]!["resourceAttributes"]!["subresource"]!.ToString());

        var unknown = Envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", [.. Bytes(2, [.. attributes, .. Text(9, "x")])]);
        (code, body) = await Post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", unknown);
        Assert.Equal(400, code);
        Assert.Contains("field 9 of SelfSubjectAccessReviewSpec is not understood", body["message"]!.ToString());
    }

    [Fact]
    public async Task ATokenRequestDecodesAndAnUnknownFieldIsRefused()
    {
        await Kubectl.RunAsync(fixture.Server.AdminKubeconfig, "create serviceaccount proto -n default");
        var spec = Bytes(2, [.. Text(1, "api"), .. Number(4, 1200)]);
        var (code, body) = await Post("/api/v1/namespaces/default/serviceaccounts/proto/token", Envelope("authentication.k8s.io/v1", "TokenRequest", [.. Bytes(1, []), .. spec]));
        Assert.Equal(201, code);
        Assert.Equal(1200, body["spec"]!["expirationSeconds"]!.GetValue<long>());
        Assert.Equal("api", body["spec"]!["audiences"]![0]!.ToString());
        Assert.False(string.IsNullOrEmpty(body["status"]!["token"]!.ToString()));

        var unknown = Bytes(2, [.. Text(1, "api"), .. Number(7, 1)]);
        (code, body) = await Post("/api/v1/namespaces/default/serviceaccounts/proto/token", Envelope("authentication.k8s.io/v1", "TokenRequest", unknown));
        Assert.Equal(400, code);
        Assert.Contains("field 7 of TokenRequestSpec is not understood", body["message"]!.ToString());
    }
}
