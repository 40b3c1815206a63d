using System.CommandLine;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// kubelet's flags of the authenticated API on <c>--port</c> (10250) and of the healthz port: serving certificate,
/// client-certificate, token and anonymous authentication, authorization mode and the webhook caches. Each overrides
/// its KubeletConfiguration field when given on the command line.
/// </summary>
internal static class KubeletApiFlags
{
    private static readonly KubeletConfiguration Defaults = new();

    public static readonly Option<int> Port = new("--port") { Description = "HTTPS port of the kubelet API (/healthz, /pods, /containerLogs, metrics and stats)", DefaultValueFactory = _ => Defaults.Port };
    public static readonly Option<int> HealthzPort = new("--healthz-port") { Description = "Port of the unauthenticated /healthz; 0 disables it", DefaultValueFactory = _ => Defaults.HealthzPort };
    public static readonly Option<string> HealthzBindAddress = new("--healthz-bind-address") { Description = "Address the healthz port binds", DefaultValueFactory = _ => Defaults.HealthzBindAddress };
    public static readonly Option<string> TlsCertFile = new("--tls-cert-file") { Description = "Serving certificate (PEM, chain after the leaf); without it a self-signed one is written to <root-dir>/pki/kubelet.crt" };
    public static readonly Option<string> TlsPrivateKeyFile = new("--tls-private-key-file") { Description = "Private key of --tls-cert-file (PEM)" };
    public static readonly Option<string> ClientCaFile = new("--client-ca-file") { Description = "CA bundle (PEM) that client certificates are verified against (user = CN, groups = O)" };
    public static readonly Option<bool> AuthenticationTokenWebhook = new("--authentication-token-webhook") { Description = "Authenticate bearer tokens through the API server's TokenReview", DefaultValueFactory = _ => Defaults.AuthenticationWebhookEnabled };
    public static readonly Option<string> AuthenticationTokenWebhookCacheTtl = new("--authentication-token-webhook-cache-ttl") { Description = "How long TokenReview answers are cached", DefaultValueFactory = _ => "2m" };
    public static readonly Option<bool> AnonymousAuth = new("--anonymous-auth") { Description = "Requests without credentials are user system:anonymous (group system:unauthenticated) instead of 401", DefaultValueFactory = _ => Defaults.AuthenticationAnonymousEnabled };
    public static readonly Option<string> AuthorizationMode = new("--authorization-mode") { Description = "Webhook (SubjectAccessReview on nodes/<subresource>) or AlwaysAllow", DefaultValueFactory = _ => Defaults.AuthorizationMode };
    public static readonly Option<string> AuthorizationWebhookCacheAuthorizedTtl = new("--authorization-webhook-cache-authorized-ttl") { Description = "How long an allowing SubjectAccessReview is cached", DefaultValueFactory = _ => "5m" };
    public static readonly Option<string> AuthorizationWebhookCacheUnauthorizedTtl = new("--authorization-webhook-cache-unauthorized-ttl") { Description = "How long a denying SubjectAccessReview is cached", DefaultValueFactory = _ => "30s" };

    public static IEnumerable<Option> All => [Port, HealthzPort, HealthzBindAddress, TlsCertFile, TlsPrivateKeyFile, ClientCaFile, AuthenticationTokenWebhook,
        AuthenticationTokenWebhookCacheTtl, AnonymousAuth, AuthorizationMode, AuthorizationWebhookCacheAuthorizedTtl, AuthorizationWebhookCacheUnauthorizedTtl];
}
