using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using k8s.Models;
using NodeAgent.Kube.Api;

namespace NodeAgent.Kube.Tests.Support;

/// <summary>CertificateSigningRequests for tests: the resource, and a fresh P-256 key with a PEM request for a subject.</summary>
public static class CsrRequests
{
    public static readonly ApiResource<V1CertificateSigningRequest, V1CertificateSigningRequestList> Resource =
        new("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", false);

    public static (ECDsa Key, byte[] RequestPem) New(string subject)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName(subject, X500DistinguishedNameFlags.UseCommas), key, HashAlgorithmName.SHA256);
        return (key, Encoding.ASCII.GetBytes(request.CreateSigningRequestPem()));
    }
}
