using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// The API server's way to a node's kubelet, as the real one goes: <c>nodes/NAME/proxy/PATH</c> (a raw proxy:
/// the kubelet's status and body pass through) and <c>pods/NAME/log</c> (kubelet's <c>/containerLogs</c> with the
/// PodLogOptions; a kubelet error becomes a Status with its code and text, as the real server's response checker
/// makes). The kubelet is dialled at the Node's InternalIP (or <see cref="TestApiServerOptions.KubeletDialAddress"/>,
/// standing in for a route to the node such as k3s's tunnel) and <c>status.daemonEndpoints.kubeletEndpoint.Port</c>,
/// authenticating with a client certificate of the server's CA (<c>--kubelet-client-certificate</c>, user
/// <c>kube-apiserver-kubelet-client</c>); the kubelet's serving certificate is not verified, as the real server
/// without <c>--kubelet-certificate-authority</c>.
/// </summary>
public sealed class KubeletProxy(ObjectStore store, X509Certificate2 clientCertificate, string? dialAddress) : IDisposable
{
    public const string ClientUser = "kube-apiserver-kubelet-client";

    private static readonly string[] LogOptions = ["follow", "previous", "timestamps", "tailLines", "limitBytes", "sinceSeconds", "sinceTime", "insecureSkipTLSVerifyBackend"];

    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        SslOptions =
        {
            ClientCertificates = new X509CertificateCollection { clientCertificate },
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        },
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary><c>GET /api/v1/nodes/NAME/proxy/PATH</c> after authorization of <c>nodes/proxy</c>.</summary>
    public async Task ProxyNodeAsync(HttpContext context, string node, string path)
    {
        var target = KubeletUrl(node) + "/" + path + context.Request.QueryString.Value;
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(context.Request.Body);
        }

        await ForwardAsync(context, request, raw: true);
    }

    /// <summary><c>GET /api/v1/namespaces/NS/pods/NAME/log</c> after authorization of <c>pods/log</c>.</summary>
    public async Task PodLogAsync(HttpContext context, string ns, string name)
    {
        var pod = store.Get("pods", ns, name)?.Parse() ?? throw ApiError.NotFound(ResourceCatalog.Get("pods"), name);
        var containers = (pod["spec"]?["containers"] as JsonArray ?? []).Select(c => c?["name"]?.ToString()).OfType<string>().ToList();
        var all = containers.Concat((pod["spec"]?["initContainers"] as JsonArray ?? []).Select(c => c?["name"]?.ToString()).OfType<string>()).ToList();
        var container = context.Request.Query["container"].ToString();
        if (container.Length == 0)
        {
            container = containers.Count == 1 ? containers[0]
                : throw ApiError.BadRequest($"a container name must be specified for pod {name}, choose one of: [{string.Join(' ', all)}]");
        }
        else if (!all.Contains(container))
        {
            throw ApiError.BadRequest($"container {container} is not valid for pod {name}");
        }

        var node = pod["spec"]?["nodeName"]?.ToString();
        if (string.IsNullOrEmpty(node))
        {
            throw ApiError.BadRequest($"pod {name} does not have a host assigned");
        }

        var query = string.Join('&', LogOptions.Where(o => context.Request.Query[o].ToString().Length > 0)
            .Select(o => $"{o}={Uri.EscapeDataString(context.Request.Query[o].ToString())}"));
        var target = $"{KubeletUrl(node)}/containerLogs/{Uri.EscapeDataString(ns)}/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(container)}" + (query.Length > 0 ? "?" + query : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        await ForwardAsync(context, request, raw: false);
    }

    public void Dispose() => _http.Dispose();

    private string KubeletUrl(string node)
    {
        var obj = store.Get("nodes", "", node)?.Parse() ?? throw ApiError.NotFound(ResourceCatalog.Get("nodes"), node);
        var port = obj["status"]?["daemonEndpoints"]?["kubeletEndpoint"]?["Port"]?.GetValue<int>() ?? 0;
        var address = dialAddress ?? (obj["status"]?["addresses"] as JsonArray ?? []).FirstOrDefault(a => a?["type"]?.ToString() == "InternalIP")?["address"]?.ToString();
        if (port is <= 0 or > 65535 || string.IsNullOrEmpty(address) || !IPAddress.TryParse(address, out var ip))
        {
            throw new ApiError(503, "ServiceUnavailable", $"no preferred addresses found; known addresses: [] (node \"{node}\", kubelet port {port})");
        }

        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"https://[{ip}]:{port}" : $"https://{ip}:{port}";
    }

    private async Task ForwardAsync(HttpContext context, HttpRequestMessage request, bool raw)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (HttpRequestException e)
        {
            throw new ApiError(502, "InternalError", $"error trying to reach service: {e.Message}");
        }

        using (response)
        {
            if (!raw && !response.IsSuccessStatusCode)
            {
                var text = await response.Content.ReadAsStringAsync(context.RequestAborted);
                throw new ApiError((int)response.StatusCode, response.StatusCode.ToString(), text.Length > 2048 ? text[..2048] : text);
            }

            context.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type)
            {
                context.Response.ContentType = type.ToString();
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var buffer = new byte[16 * 1024];
            int n;
            while ((n = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, n), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
    }
}
