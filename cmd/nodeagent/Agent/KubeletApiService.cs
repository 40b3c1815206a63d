using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kube.Api;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Kubelet.Node;
using NodeAgent.Runtime.Logs;
using NodeAgent.Server;
using NodeAgent.Server.Auth;
using NodeAgent.Server.Logs;
using NodeAgent.Server.Tls;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// Hosts the kubelet's authenticated HTTPS API (<c>--port</c> on <c>--address</c>) and the healthz port
/// (<c>--healthz-port</c> on <c>--healthz-bind-address</c>), composed from the options: the serving certificate,
/// client-CA, TokenReview and anonymous authentication, Webhook or AlwaysAllow authorization, and the kubelet's
/// expositions. Both listen before start-up completes. Without an API server, Webhook authorization cannot be asked
/// (kubelet refuses to start then): the HTTPS API is not started and the log says so; the pods run regardless. A
/// port that cannot be bound is logged, as for the read-only port.
/// </summary>
internal sealed partial class KubeletApiService(AgentOptions options, NodeIdentity node, KubeApiContext? api, KubeletHost host, LoopSupervisor supervisor,
    IRuntimeService runtime, TimeProvider time, ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggers.CreateLogger<KubeletApiService>();
    private HealthzServer? _healthz;
    private KubeletApiServer? _server;
    private ServingCertificate? _certificate;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var k = options.Kubelet;
        var health = new LoopHealthSet(supervisor, host.PodLoops);
        if (k.HealthzPort > 0)
        {
            var healthz = new HealthzServer(IPAddress.Parse(k.HealthzBindAddress), k.HealthzPort, health, loggers);
            if (await TryStartAsync(healthz.StartAsync, "healthz", k.HealthzBindAddress, k.HealthzPort, cancellationToken))
            {
                _healthz = healthz;
            }
        }

        var reviewer = api is null ? null : new ApiReviewer(new ReviewClient(api.Connection));
        if (k.AuthorizationMode == "Webhook" && reviewer is null)
        {
            LogNoWebhook(k.Port);
            return;
        }

        _certificate = ServingCertificate.Open(k.TlsCertFile, k.TlsPrivateKeyFile, options.RootDir, node.Name, node.Addresses, _logger, time);
        var authenticator = new KubeletAuthenticator(LoadClientCas(k.AuthenticationX509ClientCaFile), k.AuthenticationWebhookEnabled ? reviewer : null,
            k.AuthenticationAnonymousEnabled, k.AuthenticationWebhookCacheTtl, time);
        var authorizer = k.AuthorizationMode == "Webhook"
            ? new KubeletAuthorizer(reviewer, k.AuthorizationWebhookCacheAuthorizedTtl, k.AuthorizationWebhookCacheUnauthorizedTtl, time)
            : KubeletAuthorizer.AlwaysAllow;
        var server = new KubeletApiServer(new KubeletApiServerOptions
        {
            Address = IPAddress.Parse(k.Address),
            Port = k.Port,
            NodeName = node.Name,
            Certificate = _certificate,
            Authenticator = authenticator,
            Authorizer = authorizer,
            Pods = host.Pods,
            Health = health,
            Expositions = host.Expositions,
            Logs = new ContainerLogsEndpoint(host.Pods, runtime, CriContainerLogReader.Instance, time),
        }, loggers);
        if (await TryStartAsync(server.StartAsync, "kubelet API", k.Address, k.Port, cancellationToken))
        {
            _server = server;
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }

        if (_healthz is not null)
        {
            await _healthz.DisposeAsync();
            _healthz = null;
        }

        _certificate?.Dispose();
        _certificate = null;
    }

    /// <summary>The client CA bundle; an unreadable one stops the agent, as kubelet's does.</summary>
    private static X509Certificate2Collection? LoadClientCas(string? file)
    {
        if (file is null)
        {
            return null;
        }

        var cas = new X509Certificate2Collection();
        try
        {
            cas.ImportFromPemFile(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new NodeAgent.Kubelet.Config.KubeletConfigurationException($"--client-ca-file {file}: {e.Message}", e);
        }

        return cas.Count > 0 ? cas : throw new NodeAgent.Kubelet.Config.KubeletConfigurationException($"--client-ca-file {file}: no certificate in the file");
    }

    private async Task<bool> TryStartAsync(Func<CancellationToken, Task> start, string what, string address, int port, CancellationToken cancellationToken)
    {
        try
        {
            await start(cancellationToken);
            return true;
        }
        catch (IOException e)
        {
            LogServerFailed(what, address, port, e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{What} not started: cannot listen on {Address}:{Port}: {Error}")]
    private partial void LogServerFailed(string what, string address, int port, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "kubelet API on port {Port} not started: --authorization-mode=Webhook needs an API server (--kubeconfig); give --authorization-mode=AlwaysAllow (with --client-ca-file or --anonymous-auth) to serve it on a standalone node")]
    private partial void LogNoWebhook(int port);
}
