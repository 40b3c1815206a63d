using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>
/// Kubelet TLS bootstrap end to end: a bootstrap token authenticates as system:bootstrap:ID, files a client CSR, the
/// CSR is auto-approved and signed, and the signed certificate authenticates as system:node:NAME; with kubectl and the
/// client layer. Also `kubectl certificate approve|deny` (protobuf CSR bodies) and tokens that must not work.
/// </summary>
public sealed class BootstrapTokenTests : IAsyncLifetime
{
    private const string Token = "abcdef.0123456789abcdef";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly ApiResource<V1CertificateSigningRequest, V1CertificateSigningRequestList> Csrs = CsrRequests.Resource;
    private TestApiServerHost _server = null!;
    private string _dir = "";

    public async Task InitializeAsync()
    {
        _dir = Directory.CreateTempSubdirectory("nodeagent-kube-test-").FullName;
        _server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = _dir, BootstrapTokens = [Token] });
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }

    private static async Task<Kubectl.Result> Ok(Task<Kubectl.Result> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }


    [Fact]
    public async Task ABootstrapTokenBecomesANodeCertificate()
    {
        var bootstrap = _server.BootstrapKubeconfig();
        var whoami = JsonNode.Parse((await Ok(Kubectl.RunAsync(bootstrap, "auth whoami -o json"))).Stdout)!;
        Assert.Equal("system:bootstrap:abcdef", whoami["status"]!["userInfo"]!["username"]!.ToString());
        var groups = whoami["status"]!["userInfo"]!["groups"]!.AsArray().Select(g => g!.ToString()).ToList();
        Assert.Equal(["system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"], groups);

        // A bootstrapper may file and read CSRs, nothing else.
        var pods = await Kubectl.RunAsync(bootstrap, "get pods");
        Assert.NotEqual(0, pods.ExitCode);
        Assert.Contains("User \"system:bootstrap:abcdef\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\"", pods.Stderr);
        Assert.StartsWith("no", (await Kubectl.RunAsync(bootstrap, "auth can-i create nodes")).Stdout);
        Assert.StartsWith("yes", (await Kubectl.RunAsync(bootstrap, "auth can-i create certificatesigningrequests")).Stdout);
        Assert.StartsWith("no", (await Kubectl.RunAsync(bootstrap, "auth can-i create subjectaccessreviews.authorization.k8s.io")).Stdout);

        // The client layer files the kubelet client CSR with the token and waits for the certificate.
        var config = KubeConfigLoader.LoadFile(bootstrap);
        using var connection = new KubeApiConnection(config);
        var csrs = new ResourceClient<V1CertificateSigningRequest, V1CertificateSigningRequestList>(connection, Csrs);
        await using var informer = new Informer<V1CertificateSigningRequest, V1CertificateSigningRequestList>(csrs, new InformerOptions { FieldSelector = "metadata.name=node-csr-w1" });
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);
        var (key, request) = CsrRequests.New("CN=system:node:w1, O=system:nodes");
        using (key)
        {
            var created = await csrs.CreateAsync(new V1CertificateSigningRequest
            {
                Metadata = new V1ObjectMeta { Name = "node-csr-w1" },
                Spec = new V1CertificateSigningRequestSpec { Request = request, SignerName = "kubernetes.io/kube-apiserver-client-kubelet", Usages = ["digital signature", "client auth"] },
            });
            Assert.Equal("system:bootstrap:abcdef", created.Spec.Username);
            await informer.WaitForAsync(c => c.Get(null, "node-csr-w1")?.Status?.Certificate is { Length: > 0 }).WaitAsync(Patience);
            var done = informer.Cache.Get(null, "node-csr-w1")!;
            Assert.Contains(done.Status.Conditions, c => c.Type == "Approved" && c.Reason == "AutoApproved");
            var table = await Ok(Kubectl.RunAsync(_server.AdminKubeconfig, "get csr node-csr-w1"));
            Assert.Matches(@"node-csr-w1\s+\S+\s+kubernetes.io/kube-apiserver-client-kubelet\s+system:bootstrap:abcdef\s+.*Approved,Issued", table.Stdout);

            // The signed certificate is the node's identity, for kubectl and for the client layer.
            using var issued = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(done.Status.Certificate));
            var nodeConfig = Path.Combine(_dir, "w1.kubeconfig");
            var text = File.ReadAllText(bootstrap).Replace($"    token: {Token}\n",
                $"    client-certificate-data: {B64(issued.ExportCertificatePem())}\n    client-key-data: {B64(key.ExportPkcs8PrivateKeyPem())}\n");
            File.WriteAllText(nodeConfig, text);
            var node = JsonNode.Parse((await Ok(Kubectl.RunAsync(nodeConfig, "auth whoami -o json"))).Stdout)!;
            Assert.Equal("system:node:w1", node["status"]!["userInfo"]!["username"]!.ToString());
            using var nodeConnection = new KubeApiConnection(KubeConfigLoader.LoadFile(nodeConfig));
            var registered = await new ResourceClient<V1Node, V1NodeList>(nodeConnection, KubeResources.Nodes).CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "w1" } });
            Assert.Equal("w1", registered.Metadata.Name);
            var other = await Assert.ThrowsAsync<ApiException>(() => new ResourceClient<V1Node, V1NodeList>(nodeConnection, KubeResources.Nodes).CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "w2" } }));
            Assert.Equal(403, (int)other.StatusCode);
        }
    }

    [Theory]
    [InlineData("expired", "--from-literal=expiration=2020-01-01T00:00:00Z --from-literal=usage-bootstrap-authentication=true")]
    [InlineData("nousage", "--from-literal=usage-bootstrap-signing=true")]
    [InlineData("badgrp", "--from-literal=usage-bootstrap-authentication=true --from-literal=auth-extra-groups=system:masters")]
    public async Task TokensThatMayNotAuthenticateAreUnauthorized(string id, string extra)
    {
        var idPadded = id.PadRight(6, '0')[..6];
        const string secret = "0123456789abcdef";
        await Ok(Kubectl.RunAsync(_server.AdminKubeconfig,
            $"create secret generic bootstrap-token-{idPadded} -n kube-system --type bootstrap.kubernetes.io/token --from-literal=token-id={idPadded} --from-literal=token-secret={secret} {extra}"));
        var config = File.ReadAllText(_server.BootstrapKubeconfig()).Replace(Token, $"{idPadded}.{secret}");
        var path = Path.Combine(_dir, $"bad-{idPadded}.kubeconfig");
        File.WriteAllText(path, config);
        var result = await Kubectl.RunAsync(path, "auth whoami");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("Unauthorized", result.Stderr);

        // A wrong secret for the good token id is as unauthorized.
        File.WriteAllText(path, File.ReadAllText(_server.BootstrapKubeconfig()).Replace(Token, "abcdef.ffffffffffffffff"));
        Assert.Contains("Unauthorized", (await Kubectl.RunAsync(path, "auth whoami")).Stderr);
    }

    [Fact]
    public async Task KubectlCertificateApproveAndDeny()
    {
        var admin = _server.AdminKubeconfig;
        foreach (var name in new[] { "custom-a", "custom-d" })
        {
            var (key, request) = CsrRequests.New($"CN={name}");
            key.Dispose();
            await Ok(Kubectl.RunAsync(admin, "create -f -", $"""
                apiVersion: certificates.k8s.io/v1
                kind: CertificateSigningRequest
                metadata: {"{"}name: {name}{"}"}
                spec:
                  request: {Convert.ToBase64String(request)}
                  signerName: example.com/custom
                  usages: [client auth]
                """));
        }
        await Ok(Kubectl.RunAsync(admin, "certificate approve custom-a"));
        await Ok(Kubectl.RunAsync(admin, "certificate deny custom-d"));
        var approved = JsonNode.Parse((await Ok(Kubectl.RunAsync(admin, "get csr custom-a -o json"))).Stdout)!;
        var condition = approved["status"]!["conditions"]![0]!;
        Assert.Equal("Approved", condition["type"]!.ToString());
        Assert.Equal("KubectlApprove", condition["reason"]!.ToString());
        Assert.Equal("True", condition["status"]!.ToString());
        Assert.NotNull(condition["lastUpdateTime"]);
        var denied = JsonNode.Parse((await Ok(Kubectl.RunAsync(admin, "get csr custom-d -o json"))).Stdout)!;
        Assert.Equal("Denied", denied["status"]!["conditions"]![0]!["type"]!.ToString());
        // The request bytes came through the protobuf update unchanged.
        Assert.StartsWith("-----BEGIN CERTIFICATE REQUEST-----", Encoding.ASCII.GetString(Convert.FromBase64String(approved["spec"]!["request"]!.ToString())));
    }

    private static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
