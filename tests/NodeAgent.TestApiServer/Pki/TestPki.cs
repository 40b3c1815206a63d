using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace NodeAgent.TestApiServer.Pki;

/// <summary>The server's own CA, its serving certificate, and client certificates signed by the CA (ECDSA P-256).</summary>
public sealed class TestPki : IDisposable
{
    private TestPki(X509Certificate2 ca)
    {
        Ca = ca;
        ServerCertificate = Issue("CN=kube-apiserver", [], server: true);
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 ServerCertificate { get; }

    public string CaPem => Ca.ExportCertificatePem();

    public static TestPki Create()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=nodeagent-test-apiserver-ca", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddYears(2));
        return new TestPki(ca);
    }

    /// <summary>A client certificate for user <paramref name="commonName"/> in <paramref name="organizations"/> (the groups).</summary>
    public X509Certificate2 IssueClient(string commonName, params string[] organizations)
    {
        var subject = string.Join(", ", organizations.Select(o => "O=" + o).Prepend("CN=" + commonName));
        return Issue(subject, organizations, server: false);
    }

    private X509Certificate2 Issue(string subject, string[] organizations, bool server)
    {
        _ = organizations;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subject, X500DistinguishedNameFlags.UseCommas), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("localhost");
            san.AddDnsName("kubernetes");
            san.AddDnsName("kubernetes.default.svc");
            san.AddIpAddress(IPAddress.Loopback);
            san.AddIpAddress(IPAddress.IPv6Loopback);
            request.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var signed = request.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), Ca.NotAfter.ToUniversalTime().AddDays(-1), serial);
        return signed.CopyWithPrivateKey(key);
    }

    /// <summary>True when <paramref name="certificate"/> was issued by this CA and is valid now.</summary>
    public bool Verify(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid("1.3.6.1.5.5.7.3.2"));
        return chain.Build(certificate);
    }

    public static string KeyPem(X509Certificate2 certificate) =>
        certificate.GetECDsaPrivateKey()?.ExportPkcs8PrivateKeyPem() ?? throw new InvalidOperationException("certificate has no ECDSA key");

    public void Dispose()
    {
        Ca.Dispose();
        ServerCertificate.Dispose();
    }
}
