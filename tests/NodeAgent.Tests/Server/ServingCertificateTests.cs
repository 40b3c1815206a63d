using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Server.Tls;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Server;

/// <summary>The kubelet API's serving certificate: kubelet's self-signed pair under the root dir, kept across
/// restarts, and reloaded (inotify) when the files change, so new connections get the new one.</summary>
public sealed class ServingCertificateTests
{
    [Fact]
    public void ASelfSignedPairIsWrittenForTheNodesNamesAndKeptAcrossRestarts()
    {
        using var dir = new TempDir("serving-cert");
        string thumbprint;
        using (var cert = ServingCertificate.Open(null, null, dir.Path, "node1.example", [IPAddress.Parse("192.0.2.10")], NullLogger.Instance))
        {
            thumbprint = cert.Current.Thumbprint;
            Assert.True(cert.Current.HasPrivateKey);
            Assert.StartsWith("CN=node1.example@", cert.Current.Subject, StringComparison.Ordinal);
            var san = cert.Current.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
            Assert.Contains("node1.example", san.EnumerateDnsNames());
            Assert.Contains(IPAddress.Parse("192.0.2.10"), san.EnumerateIPAddresses());
        }

        var key = Path.Combine(dir.Path, "pki", "kubelet.key");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        Assert.True(File.Exists(Path.Combine(dir.Path, "pki", "kubelet.crt")));
        using var again = ServingCertificate.Open(null, null, dir.Path, "node1.example", [], NullLogger.Instance);
        Assert.Equal(thumbprint, again.Current.Thumbprint);
    }

    [Fact]
    public async Task ChangedFilesAreServedToNewConnections()
    {
        await using var s = await KubeletApiTestServer.StartAsync();
        var before = s.Certificate.Current.Thumbprint;
        var reloaded = new TaskCompletionSource<X509Certificate2>(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Certificate.Reloaded += c => reloaded.TrySetResult(c);

        var pki = Path.Combine(s.Dir.Path, "root", "pki");
        ServingCertificate.WriteSelfSigned(Path.Combine(pki, "kubelet.crt"), Path.Combine(pki, "kubelet.key"), "renewed.example", [], TimeProvider.System);
        var now = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.NotEqual(before, now.Thumbprint);
        Assert.StartsWith("CN=renewed.example@", now.Subject, StringComparison.Ordinal);

        // A new connection sees it (the client trusts only the current certificate).
        string? served = null;
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, c, _, _) =>
        {
            served = c?.GetCertHashString();
            return true;
        };
        using var http = new HttpClient(handler) { BaseAddress = s.Url };
        using var r = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        Assert.Equal(now.GetCertHashString(), served);
    }

    [Fact]
    public void AMissingOrMismatchedPairNamesTheFiles()
    {
        using var dir = new TempDir("serving-cert-bad");
        var e = Assert.Throws<ServingCertificateException>(() =>
            ServingCertificate.Open(dir.Combine("nope.crt"), dir.Combine("nope.key"), dir.Path, "n", [], NullLogger.Instance));
        Assert.Contains("nope.crt", e.Message, StringComparison.Ordinal);
    }
}
