using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Server.Tls;

/// <summary>
/// The kubelet API's serving certificate: <c>--tls-cert-file</c>/<c>--tls-private-key-file</c>, or else (as kubelet
/// does) a self-signed one for the node's host name and IPs written to <c>&lt;root-dir&gt;/pki/kubelet.crt</c> and
/// <c>kubelet.key</c> (kept across restarts; the key file is 0600). The files are watched (inotify through
/// <see cref="FileSystemWatcher"/>) and loaded again when they change, so a renewed certificate is served to new
/// connections without a restart; a pair that does not load (half written, key not matching) keeps the previous one
/// and is logged.
/// </summary>
public sealed partial class ServingCertificate : IDisposable
{
    private readonly string _certFile;
    private readonly string _keyFile;
    private readonly ILogger _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly Lock _lock = new();
    private X509Certificate2 _current;

    private ServingCertificate(string certFile, string keyFile, ILogger logger, bool watch)
    {
        _certFile = certFile;
        _keyFile = keyFile;
        _logger = logger;
        _current = Load(certFile, keyFile);
        if (watch)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(certFile))!;
            _watcher = new FileSystemWatcher(dir) { NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size };
            _watcher.Changed += (_, e) => OnChange(e.FullPath);
            _watcher.Created += (_, e) => OnChange(e.FullPath);
            _watcher.Renamed += (_, e) => OnChange(e.FullPath);
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>The certificate served to new connections.</summary>
    public X509Certificate2 Current
    {
        get
        {
            lock (_lock)
            {
                return _current;
            }
        }
    }

    /// <summary>Raised after a changed pair was loaded (tests wait on it).</summary>
    public event Action<X509Certificate2>? Reloaded;

    /// <summary>Loads the given pair, or (both null) the self-signed pair under <paramref name="rootDir"/>, made first when missing.</summary>
    /// <exception cref="ServingCertificateException">The files cannot be read or do not hold a certificate and its key.</exception>
    public static ServingCertificate Open(string? certFile, string? keyFile, string rootDir, string hostName, IReadOnlyList<IPAddress> addresses, ILogger logger, TimeProvider? time = null)
    {
        if (certFile is null || keyFile is null)
        {
            var pki = Path.Combine(rootDir, "pki");
            certFile = Path.Combine(pki, "kubelet.crt");
            keyFile = Path.Combine(pki, "kubelet.key");
            if (!File.Exists(certFile) || !File.Exists(keyFile))
            {
                WriteSelfSigned(certFile, keyFile, hostName, addresses, time ?? TimeProvider.System);
            }
        }

        return new ServingCertificate(certFile, keyFile, logger, watch: true);
    }

    /// <summary>kubelet's self-signed serving pair: ECDSA P-256, CN <c>&lt;host&gt;@&lt;unix time&gt;</c>, SANs the host
    /// name and addresses, one year; the key written 0600 before the certificate.</summary>
    public static void WriteSelfSigned(string certFile, string keyFile, string hostName, IReadOnlyList<IPAddress> addresses, TimeProvider time)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(certFile))!);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(keyFile))!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = time.GetUtcNow();
        var request = new CertificateRequest(new X500DistinguishedName($"CN={hostName}@{now.ToUnixTimeSeconds()}"), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var san = new SubjectAlternativeNameBuilder();
        if (IPAddress.TryParse(hostName, out var hostIp))
        {
            san.AddIpAddress(hostIp);
        }
        else
        {
            san.AddDnsName(hostName);
        }

        foreach (var address in addresses.Where(a => !a.Equals(hostIp)))
        {
            san.AddIpAddress(address);
        }

        request.CertificateExtensions.Add(san.Build());
        using var cert = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(1));
        WriteAtomically(keyFile, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        WriteAtomically(certFile, cert.ExportCertificatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    public void Dispose()
    {
        _watcher?.Dispose();
    }

    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        var temp = path + ".tmp";
        File.Delete(temp);
        using (var stream = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode }))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(text);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static X509Certificate2 Load(string certFile, string keyFile)
    {
        try
        {
            var cert = X509Certificate2.CreateFromPemFile(certFile, keyFile);
            if (!cert.HasPrivateKey)
            {
                throw new ServingCertificateException($"{certFile}: the certificate has no private key in {keyFile}");
            }

            // An ephemeral key (from PEM) must be exported once for SslStream on some platforms; on Linux it is used as is.
            return cert;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new ServingCertificateException($"serving certificate {certFile} with key {keyFile}: {e.Message}", e);
        }
    }

    private void OnChange(string path)
    {
        if (!string.Equals(path, Path.GetFullPath(_certFile), StringComparison.Ordinal) && !string.Equals(path, Path.GetFullPath(_keyFile), StringComparison.Ordinal))
        {
            return;
        }

        X509Certificate2 loaded;
        try
        {
            loaded = Load(_certFile, _keyFile);
        }
        catch (ServingCertificateException e)
        {
            // The other file of the pair may not be written yet: its own event loads the pair then.
            LogReloadFailed(e.Message);
            return;
        }

        lock (_lock)
        {
            if (loaded.Thumbprint == _current.Thumbprint)
            {
                loaded.Dispose();
                return;
            }

            _current = loaded;
        }

        LogReloaded(loaded.Subject, loaded.NotAfter.ToUniversalTime().ToString("O"));
        Reloaded?.Invoke(loaded);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "serving certificate reloaded: {Subject}, valid until {NotAfter}")]
    private partial void LogReloaded(string subject, string notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "serving certificate not reloaded, the previous one stays: {Error}")]
    private partial void LogReloadFailed(string error);
}

/// <summary>The serving certificate or its key cannot be used; the message names the files and the cause.</summary>
public sealed class ServingCertificateException(string message, Exception? inner = null) : Exception(message, inner);
