using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Pki;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>
/// The CSR approver and signer for kubelet client certificates (pkg/controller/certificates/approver/sarapprove.go,
/// signer): a request for signer <c>kubernetes.io/kube-apiserver-client-kubelet</c> whose subject is exactly
/// <c>CN=system:node:NAME, O=system:nodes</c>, without SANs, with usages {digital signature, client auth} (key
/// encipherment allowed), asked for by that node itself, by a bootstrap token or by an admin, is approved
/// ("AutoApproved"); approved requests for the client signers are signed by the server's CA into
/// <c>status.certificate</c>.
/// </summary>
public sealed class CsrController(ObjectStore store, TestPki pki, TimeProvider time)
{
    public const string KubeletClientSigner = "kubernetes.io/kube-apiserver-client-kubelet";
    private const string Key = "certificates.k8s.io/certificatesigningrequests";

    public Task RunAsync(CancellationToken ct) => ChangeLoop.RunAsync(store, [Key], Sync, ct);

    private void Sync()
    {
        var (csrs, _) = store.List(Key, null, c => c["status"]?["certificate"] is null);
        foreach (var stored in csrs)
        {
            var csr = stored.Parse();
            var conditions = (csr["status"]?["conditions"] as JsonArray ?? []).OfType<JsonObject>().ToList();
            if (conditions.Any(c => c["type"]?.ToString() is "Denied" or "Failed"))
            {
                continue;
            }
            var approved = conditions.Any(c => c["type"]?.ToString() == "Approved");
            if (!approved && RecognizedKubeletClient(csr))
            {
                Update(stored, c =>
                {
                    var status = c["status"] as JsonObject ?? new JsonObject();
                    c["status"] = status;
                    var list = status["conditions"] as JsonArray ?? new JsonArray();
                    status["conditions"] = list;
                    list.Add((JsonNode)new JsonObject
                    {
                        ["type"] = "Approved",
                        ["status"] = "True",
                        ["reason"] = "AutoApproved",
                        ["message"] = "Auto approving kubelet client certificate after SubjectAccessReview.",
                        ["lastUpdateTime"] = ObjectRules.Timestamp(time.GetUtcNow()),
                        ["lastTransitionTime"] = ObjectRules.Timestamp(time.GetUtcNow()),
                    });
                });
                continue;
            }
            if (approved && csr["spec"]?["signerName"]?.ToString() is KubeletClientSigner or "kubernetes.io/kube-apiserver-client")
            {
                var pem = Sign(csr);
                if (pem is not null)
                {
                    Update(stored, c => c["status"]!["certificate"] = Convert.ToBase64String(Encoding.ASCII.GetBytes(pem)));
                }
            }
        }
    }

    private void Update(StoredObject stored, Action<JsonObject> change) =>
        store.Write(Key, "", stored.Name, (current, old) =>
        {
            if (current is null || old!.ResourceVersion != stored.ResourceVersion)
            {
                return new StoreChange.Nothing();
            }
            change(current);
            return new StoreChange.Put(current);
        });

    private static CertificateRequest? Load(JsonObject csr)
    {
        try
        {
            var pem = Encoding.ASCII.GetString(Convert.FromBase64String(csr["spec"]?["request"]?.ToString() ?? ""));
            return CertificateRequest.LoadSigningRequestPem(pem, HashAlgorithmName.SHA256, CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return null;
        }
    }

    private static bool RecognizedKubeletClient(JsonObject csr)
    {
        if (csr["spec"]?["signerName"]?.ToString() != KubeletClientSigner || Load(csr) is not { } request)
        {
            return false;
        }
        var rdns = request.SubjectName.EnumerateRelativeDistinguishedNames().ToList();
        var cn = rdns.Where(r => r.GetSingleElementType().Value == "2.5.4.3").Select(r => r.GetSingleElementValue()).ToList();
        var orgs = rdns.Where(r => r.GetSingleElementType().Value == "2.5.4.10").Select(r => r.GetSingleElementValue()).ToList();
        if (cn.Count != 1 || cn[0]?.StartsWith("system:node:", StringComparison.Ordinal) != true || orgs.Count != 1 || orgs[0] != "system:nodes"
            || rdns.Count != 2 || request.CertificateExtensions.OfType<X509SubjectAlternativeNameExtension>().Any())
        {
            return false;
        }
        var usages = (csr["spec"]?["usages"] as JsonArray ?? []).Select(u => u?.ToString()).ToHashSet();
        var okUsages = usages.SetEquals(["digital signature", "client auth"]) || usages.SetEquals(["digital signature", "key encipherment", "client auth"]);
        var requester = csr["spec"]?["username"]?.ToString();
        var groups = (csr["spec"]?["groups"] as JsonArray ?? []).Select(g => g?.ToString()).ToList();
        var allowed = requester == cn[0] || groups.Contains("system:bootstrappers") || groups.Contains("system:masters");
        return okUsages && allowed;
    }

    private string? Sign(JsonObject csr)
    {
        if (Load(csr) is not { } request)
        {
            return null;
        }
        var signing = new CertificateRequest(request.SubjectName, request.PublicKey, HashAlgorithmName.SHA256);
        signing.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        signing.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        signing.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        var seconds = csr["spec"]?["expirationSeconds"].AsLong() ?? 365L * 24 * 3600;
        var notAfter = time.GetUtcNow().AddSeconds(Math.Clamp(seconds, 600, 365L * 24 * 3600));
        if (notAfter > pki.Ca.NotAfter.ToUniversalTime())
        {
            notAfter = pki.Ca.NotAfter.ToUniversalTime().AddMinutes(-1);
        }
        using var cert = signing.Create(pki.Ca, time.GetUtcNow().AddMinutes(-5), notAfter, serial);
        return cert.ExportCertificatePem();
    }
}
