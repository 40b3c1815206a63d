using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer.Pki;

namespace NodeAgent.Kube.Tests.Config;

/// <summary>kubectl's kubeconfig reading, each variant used for real against the test server.</summary>
public sealed class KubeConfigLoaderTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nodeagent-kubeconfig-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> WhoCanListNamespaces(KubeClientConfig config)
    {
        using var connection = new KubeApiConnection(config);
        var list = await new ResourceClient<V1Namespace, V1NamespaceList>(connection, KubeResources.Namespaces).ListAsync(null);
        return string.Join(",", list.Items.Select(n => n.Metadata.Name).Order());
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task AdminTokenWithInlineCa()
    {
        var config = KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig);
        Assert.Equal("default", config.Namespace);
        Assert.NotNull(config.BearerToken);
        Assert.Contains("kube-system", await WhoCanListNamespaces(config));
    }

    [Fact]
    public async Task NodeCertificateAsInlineData()
    {
        var config = KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n1"));
        Assert.NotNull(config.ClientCertificate);
        using var connection = new KubeApiConnection(config);
        var nodes = new ResourceClient<V1Node, V1NodeList>(connection, KubeResources.Nodes);
        var created = await nodes.CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "n1" } });
        Assert.Equal("n1", created.Metadata.Name);
        // Namespaces are not among a node's permissions: the identity really is the node's.
        var e = await Assert.ThrowsAsync<ApiException>(() => WhoCanListNamespaces(config));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Contains("User \"system:node:n1\" cannot list resource \"namespaces\"", e.Message);
    }

    [Fact]
    public async Task CertificateKeyAndCaAsFilesRelativeToTheKubeconfig()
    {
        using var cert = fixture.Server.Pki.IssueClient("admin2", "system:masters");
        Directory.CreateDirectory(Path.Combine(_dir, "pki"));
        File.WriteAllText(Path.Combine(_dir, "pki", "ca.crt"), fixture.Server.Pki.CaPem);
        File.WriteAllText(Path.Combine(_dir, "pki", "admin.crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "pki", "admin.key"), TestPki.KeyPem(cert));
        var path = Write("files.kubeconfig", $"""
            apiVersion: v1
            kind: Config
            current-context: other
            clusters:
            - name: c
              cluster:
                server: {fixture.Server.Url.ToString().TrimEnd('/')}
                certificate-authority: pki/ca.crt
            users:
            - name: u
              user:
                client-certificate: pki/admin.crt
                client-key: pki/admin.key
            contexts:
            - name: other
              context: {"{"}cluster: c, user: u, namespace: kube-system{"}"}
            """);
        var config = KubeConfigLoader.LoadFile(path);
        Assert.Equal("kube-system", config.Namespace);
        Assert.Contains("default", await WhoCanListNamespaces(config));
    }

    [Fact]
    public async Task TokenFileAndInsecureSkipTlsVerify()
    {
        var tokenFile = Path.Combine(_dir, "token");
        File.WriteAllText(tokenFile, fixture.Server.AdminToken + "\n");
        var path = Write("token.kubeconfig", $$"""
            apiVersion: v1
            kind: Config
            current-context: x
            clusters:
            - name: c
              cluster: {server: "{{fixture.Server.Url.ToString().TrimEnd('/')}}", insecure-skip-tls-verify: true}
            users:
            - name: u
              user: {tokenFile: token}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            """);
        var config = KubeConfigLoader.LoadFile(path);
        Assert.True(config.InsecureSkipTlsVerify);
        Assert.Equal(tokenFile, config.BearerTokenFile);
        Assert.Contains("kube-public", await WhoCanListNamespaces(config));
    }

    [Fact]
    public async Task AWrongCaIsRefusedByTheClient()
    {
        using var other = TestPki.Create();
        var text = File.ReadAllText(fixture.Server.AdminKubeconfig);
        var ours = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(fixture.Server.Pki.CaPem));
        var theirs = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(other.CaPem));
        var config = KubeConfigLoader.LoadFile(Write("wrong-ca.kubeconfig", text.Replace(ours, theirs)));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => WhoCanListNamespaces(config));
        Assert.Contains("SSL", e.ToString());
    }

    [Fact]
    public void KubeconfigListsMergeFirstWins()
    {
        var first = Write("a.kubeconfig", """
            current-context: a
            clusters: [{name: c, cluster: {server: "https://first:6443", insecure-skip-tls-verify: true}}]
            contexts: [{name: a, context: {cluster: c}}]
            """);
        var second = Write("b.kubeconfig", """
            current-context: b
            clusters: [{name: c, cluster: {server: "https://second:6443", insecure-skip-tls-verify: true}}]
            contexts: [{name: b, context: {cluster: c, namespace: bee}}]
            """);
        var merged = KubeConfigLoader.Load([first, second]);
        Assert.Equal("https://first:6443/", merged.Server.ToString());
        var explicitContext = KubeConfigLoader.Load([first, second], "b");
        Assert.Equal("bee", explicitContext.Namespace);
        Assert.Equal("https://first:6443/", explicitContext.Server.ToString());
    }

    public static TheoryData<string, string, string> BadConfigs => new()
    {
        { "current-context: x\ncontexts: [{name: y, context: {cluster: c}}]\n", "current-context", "context \"x\" does not exist" },
        { "current-context: x\ncontexts: [{name: x, context: {cluster: nope}}]\n", "contexts[x].context.cluster", "cluster \"nope\" does not exist" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"ftp://h\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "clusters[c].cluster.server", "is not an http(s) URL" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\", certificate-authority: /nonexistent/ca.crt}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "clusters[c].cluster.certificate-authority", "cannot read /nonexistent/ca.crt" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\", certificate-authority-data: \"!!\"}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "clusters[c].cluster.certificate-authority-data", "is not valid base64" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\", certificate-authority: a, certificate-authority-data: YQ==}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "clusters[c].cluster.certificate-authority", "both specified" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\", certificate-authority-data: YQ==, insecure-skip-tls-verify: true}}]\ncontexts: [{name: x, context: {cluster: c}}]\n", "clusters[c].cluster.insecure-skip-tls-verify", "not allowed" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {client-certificate: a.crt}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n", "users[u].user.client-key", "client certificate given without its key" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n", "users[u].user.exec", "is not supported" },
        { "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {tokenFile: /nonexistent/token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n", "users[u].user.tokenFile", "does not exist" },
        { "clusters: {a: b}\n", "clusters", "is not a list" },
        { "current-context: [x\n", "line", "not valid YAML" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void ErrorsNameTheFileAndTheField(string text, string field, string reason)
    {
        var path = Write("bad.kubeconfig", text);
        var e = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.LoadFile(path));
        Assert.StartsWith($"kubeconfig {path}: {field}", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void AKeyThatIsNotTheCertificatesIsRefused()
    {
        using var a = fixture.Server.Pki.IssueClient("a");
        using var b = fixture.Server.Pki.IssueClient("b");
        File.WriteAllText(Path.Combine(_dir, "a.crt"), a.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir, "b.key"), TestPki.KeyPem(b));
        var path = Write("mismatch.kubeconfig", "current-context: x\nclusters: [{name: c, cluster: {server: \"https://h\"}}]\nusers: [{name: u, user: {client-certificate: a.crt, client-key: b.key}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n");
        var e = Assert.Throws<KubeConfigException>(() => KubeConfigLoader.LoadFile(path));
        Assert.Contains("users[u].user.client-certificate: certificate and key do not load as a pair", e.Message);
    }

    [Fact]
    public async Task InClusterConfigurationFromTheServiceAccountDirectory()
    {
        var sa = Directory.CreateDirectory(Path.Combine(_dir, "sa")).FullName;
        File.WriteAllText(Path.Combine(sa, "token"), fixture.Server.AdminToken);
        File.WriteAllText(Path.Combine(sa, "ca.crt"), fixture.Server.Pki.CaPem);
        File.WriteAllText(Path.Combine(sa, "namespace"), "kube-system\n");
        var env = new Dictionary<string, string> { ["KUBERNETES_SERVICE_HOST"] = "127.0.0.1", ["KUBERNETES_SERVICE_PORT"] = fixture.Server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var config = InClusterConfig.Load(k => env.GetValueOrDefault(k), sa);
        Assert.Equal("kube-system", config.Namespace);
        Assert.Contains("default", await WhoCanListNamespaces(config));

        var missing = Assert.Throws<KubeConfigException>(() => InClusterConfig.Load(_ => null, sa));
        Assert.Contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined", missing.Message);
        env["KUBERNETES_SERVICE_PORT"] = "http";
        Assert.Contains("\"http\" is not a port number", Assert.Throws<KubeConfigException>(() => InClusterConfig.Load(k => env.GetValueOrDefault(k), sa)).Message);
    }
}
