using System.Diagnostics;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Registry;

/// <summary>
/// Debian's <c>docker-registry</c> (distribution 2.8) on a free 127.0.0.1 port with filesystem storage in a temp dir,
/// optionally behind htpasswd (bcrypt) basic auth. Images are pushed with skopeo. Disposing kills the process and
/// deletes its data.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private RegistryServer(Process process, string dir, int port, (string User, string Password)? auth)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Auth = auth;
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    public (string User, string Password)? Auth { get; }

    /// <param name="tls">Server certificate and key (PEM) to serve https instead of http.</param>
    public static async Task<RegistryServer> StartAsync((string User, string Password)? auth = null, (string Certificate, string Key)? tls = null)
    {
        var dir = Directory.CreateTempSubdirectory("nodeagent-registry-").FullName;
        var port = LoopbackHttpServer.FreePort();
        var authYaml = "";
        if (auth is { } a)
        {
            var htpasswd = Path.Combine(dir, "htpasswd");
            await File.WriteAllTextAsync(htpasswd, RepoPaths.Run("htpasswd", "-Bbn", a.User, a.Password).Trim() + "\n");
            authYaml = $"auth:\n  htpasswd:\n    realm: nodeagent-test\n    path: {htpasswd}\n";
        }
        var tlsYaml = tls is { } t ? $"  tls:\n    certificate: {t.Certificate}\n    key: {t.Key}\n" : "";
        var config = Path.Combine(dir, "config.yml");
        await File.WriteAllTextAsync(config,
            $"version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {dir}/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{tlsYaml}{authYaml}");
        var psi = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("serve");
        psi.ArgumentList.Add(config);
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }
            log.Enqueue(e.Data);
            if (e.Data.Contains("listening on", StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("docker-registry exited: " + string.Join('\n', log)));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RegistryServer(process, dir, port, auth);
        try
        {
            // The registry logs "listening on 127.0.0.1:PORT" once its socket is bound.
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>Pushes with skopeo: <paramref name="source"/> is a skopeo source (<c>oci-archive:F</c>, <c>oci:DIR:TAG</c>).</summary>
    public Task PushAsync(string source, string name, bool all = false, string? format = null)
    {
        var args = new List<string> { "copy", "--quiet", "--dest-tls-verify=false" };
        if (all)
        {
            args.Add("--all");
        }
        if (format is not null)
        {
            args.AddRange(["--format", format]);
        }
        if (Auth is { } a)
        {
            args.Add($"--dest-creds={a.User}:{a.Password}");
        }
        args.AddRange([source, $"docker://{Host}/{name}"]);
        return Task.Run(() => RepoPaths.Run("skopeo", [.. args]));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
