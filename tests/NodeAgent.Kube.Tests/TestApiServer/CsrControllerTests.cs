using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.TestApiServer;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>Kubelet client certificate rotation through CertificateSigningRequests: auto-approval, signing, and the new certificate in use.</summary>
public sealed class CsrControllerTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly ApiResource<V1CertificateSigningRequest, V1CertificateSigningRequestList> Csrs = CsrRequests.Resource;
    private TestApiServerHost _server = null!;
    private string _dir = "";

    public async Task InitializeAsync() => (_server, _dir) = await ApiServerFixture.StartPrivateAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_dir, true);
    }


    [Fact]
    public async Task ANodeRenewsItsClientCertificate()
    {
        var baseConfig = KubeConfigLoader.LoadFile(_server.NodeKubeconfig("n1"));
        using var node = new KubeApiConnection(baseConfig);
        var csrs = new ResourceClient<V1CertificateSigningRequest, V1CertificateSigningRequestList>(node, Csrs);
        await using var informer = new Informer<V1CertificateSigningRequest, V1CertificateSigningRequestList>(csrs, new InformerOptions { FieldSelector = "metadata.name=node-csr-n1" });
        informer.Start();
        await informer.ReadyAsync().WaitAsync(Patience);

        var (key, request) = CsrRequests.New("CN=system:node:n1, O=system:nodes");
        using (key)
        {
            var created = await csrs.CreateAsync(new V1CertificateSigningRequest
            {
                Metadata = new V1ObjectMeta { Name = "node-csr-n1" },
                Spec = new V1CertificateSigningRequestSpec { Request = request, SignerName = "kubernetes.io/kube-apiserver-client-kubelet", Usages = ["digital signature", "client auth"] },
            });
            Assert.Equal("system:node:n1", created.Spec.Username);
            await informer.WaitForAsync(c => c.Get(null, "node-csr-n1")?.Status?.Certificate is { Length: > 0 }).WaitAsync(Patience);
            var done = informer.Cache.Get(null, "node-csr-n1")!;
            Assert.Contains(done.Status.Conditions, c => c.Type == "Approved" && c.Reason == "AutoApproved");
            using var issued = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(done.Status.Certificate));
            Assert.Equal("system:node:n1", issued.GetNameInfo(X509NameType.SimpleName, false));
            Assert.Contains("O=system:nodes", issued.Subject);
            Assert.Equal(_server.Pki.Ca.Subject, issued.Issuer);

            // The new certificate is an identity the server accepts.
            using var withKey = issued.CopyWithPrivateKey(key);
            using var renewed = new KubeApiConnection(baseConfig with { ClientCertificate = withKey });
            var nodes = new ResourceClient<V1Node, V1NodeList>(renewed, KubeResources.Nodes);
            Assert.Equal("n1", (await nodes.CreateAsync(new V1Node { Metadata = new V1ObjectMeta { Name = "n1" } })).Metadata.Name);
        }
    }

    [Fact]
    public async Task ARequestForAnotherIdentityIsNotApproved()
    {
        using var node = new KubeApiConnection(KubeConfigLoader.LoadFile(_server.NodeKubeconfig("n1")));
        var csrs = new ResourceClient<V1CertificateSigningRequest, V1CertificateSigningRequestList>(node, Csrs);
        var (key, request) = CsrRequests.New("CN=system:node:other, O=system:nodes");
        key.Dispose();
        await csrs.CreateAsync(new V1CertificateSigningRequest
        {
            Metadata = new V1ObjectMeta { Name = "steal" },
            Spec = new V1CertificateSigningRequestSpec { Request = request, SignerName = "kubernetes.io/kube-apiserver-client-kubelet", Usages = ["digital signature", "client auth"] },
        });
        // A marker CSR that is approved: once it is signed, the controller has passed over "steal" too.
        var (own, ownRequest) = CsrRequests.New("CN=system:node:n1, O=system:nodes");
        own.Dispose();
        await csrs.CreateAsync(new V1CertificateSigningRequest
        {
            Metadata = new V1ObjectMeta { Name = "marker" },
            Spec = new V1CertificateSigningRequestSpec { Request = ownRequest, SignerName = "kubernetes.io/kube-apiserver-client-kubelet", Usages = ["digital signature", "client auth"] },
        });
        await using var informer = new Informer<V1CertificateSigningRequest, V1CertificateSigningRequestList>(csrs);
        informer.Start();
        await informer.WaitForAsync(c => c.Get(null, "marker")?.Status?.Certificate is { Length: > 0 }).WaitAsync(Patience);
        var steal = informer.Cache.Get(null, "steal")!;
        Assert.True(steal.Status?.Conditions is null or { Count: 0 });
        Assert.Null(steal.Status?.Certificate);
    }
}
