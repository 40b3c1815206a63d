using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NodeAgent.Registry;
using NodeAgent.Registry.Config;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Registry;

/// <summary>A registry on https with a certificate from a test CA: trusted through <c>configs.tls.ca_file</c>,
/// or <c>insecure_skip_verify</c>; refused otherwise.</summary>
public sealed class RegistryTlsTests : IAsyncLifetime
{
    private readonly TempDir _dir = new("nodeagent-tls");
    private RegistryServer _server = null!;

    private string CaFile => _dir.Combine("ca.pem");

    public async Task InitializeAsync()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=nodeagent test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(1));
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.Create(ca, now.AddDays(-1), now.AddDays(1), [1, 2, 3, 4]);
        await File.WriteAllTextAsync(CaFile, ca.ExportCertificatePem());
        await File.WriteAllTextAsync(_dir.Combine("server.pem"), cert.ExportCertificatePem());
        await File.WriteAllTextAsync(_dir.Combine("server.key"), key.ExportPkcs8PrivateKeyPem());
        _server = await RegistryServer.StartAsync(tls: (_dir.Combine("server.pem"), _dir.Combine("server.key")));
        await _server.PushAsync($"oci-archive:{TestImages.BusyboxOci}", "tls/busybox:1");
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        _dir.Dispose();
    }

    private string Ref => $"{_server.Host}/tls/busybox:1";

    [Fact]
    public async Task CustomCaFromRegistryConfigIsTrusted()
    {
        using var s = new PullStore(RegistryConfigParser.Parse($"configs:\n  \"{_server.Host}\":\n    tls:\n      ca_file: {CaFile}\n", "registries.yaml"));
        var r = await s.Puller.PullAsync(Ref, PullRequest.Default, CancellationToken.None);
        Assert.Single(r.Image.DiffIds);
    }

    [Fact]
    public async Task UnknownCaIsRefusedNamingTheRegistry()
    {
        using var s = new PullStore();
        var e = await Assert.ThrowsAsync<RegistryException>(() => s.Puller.PullAsync(Ref, PullRequest.Default, CancellationToken.None));
        Assert.Equal(RegistryErrorKind.Unavailable, e.Kind);
        Assert.Contains(_server.Host, e.Message);
        Assert.Contains("SSL", e.Message);
        Assert.Empty(s.Blobs());
    }

    [Fact]
    public async Task InsecureSkipVerifyAcceptsAnyCertificate()
    {
        using var s = new PullStore(RegistryConfigParser.Parse($"configs:\n  \"{_server.Host}\":\n    tls:\n      insecure_skip_verify: true\n", "registries.yaml"));
        var r = await s.Puller.PullAsync(Ref, PullRequest.Default, CancellationToken.None);
        Assert.Single(r.Image.DiffIds);
    }
}
