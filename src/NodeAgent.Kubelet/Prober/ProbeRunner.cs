using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Prober;

/// <summary>
/// Runs one probe as kubelet's prober does: <c>httpGet</c> (scheme, host, path, port by number or name, headers,
/// <c>User-Agent: kube-probe/1.32</c>, 2xx/3xx succeed, redirects followed on the same host and a redirect elsewhere a
/// warning, at most 10 KiB of the body kept), <c>tcpSocket</c> (a connect), <c>grpc</c> (the standard health check,
/// <see cref="GrpcHealthProbe"/>) and <c>exec</c> (exit code 0), each within
/// <c>timeoutSeconds</c>. Network probes connect from a socket made in the pod's own network namespace
/// (<see cref="ISandboxSockets"/>), to the probe's host, else the pod's IP, else loopback, so a pod without a
/// routable address is probed too. Every value of the probe is checked before use; a bad one is a failure that says
/// why, never an exception.
/// </summary>
public sealed class ProbeRunner(ISandboxSockets sockets, IContainerExec? exec) : IProbeRunner
{
    public const string UserAgent = "kube-probe/1.32";
    private const int MaxBody = 10 * 1024;
    private const int MaxRedirects = 10;
    private static readonly HttpRequestOptionsKey<HttpTarget> TargetKey = new("nodeagent.probe-target");
    private readonly GrpcHealthProbe _grpc = new(sockets);

    /// <summary>
    /// One handler for every httpGet probe and hook (a handler and client per probe cost more CPU than the probe):
    /// each request carries its pod's sandbox, the connect callback makes the socket in that pod's network namespace,
    /// and <c>Connection: close</c> (kubelet disables keep-alive for probes) means no connection is ever reused, so
    /// two pods whose probes name the same address (loopback) never share one.
    /// </summary>
    private readonly HttpMessageInvoker _http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        UseCookies = false,
        ConnectCallback = async (context, token) =>
        {
            if (context.InitialRequestMessage.Options.TryGetValue(TargetKey, out var target) is false)
            {
                throw new InvalidOperationException("a probe request without its pod");
            }

            // Redirects on the same host only reach here (the pod's namespace); other hosts end the probe.
            var ip = IPAddress.TryParse(context.DnsEndPoint.Host.Trim('[', ']'), out var literal) ? literal : target.Address;
            var socket = sockets.CreateSocket(target.SandboxId, ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(ip, context.DnsEndPoint.Port), token);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
        // kubelet probes HTTPS without verifying the certificate.
        SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true },
    });

    private sealed record HttpTarget(string SandboxId, IPAddress Address);

    public async Task<ProbeOutcome> RunAsync(ProbeTarget target, V1Probe probe, CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(Math.Clamp(probe.TimeoutSeconds ?? 1, 1, 3600));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            if (probe.Exec is { } e)
            {
                return await ExecAsync(target, e, timeout, deadline.Token);
            }
            if (probe.HttpGet is { } http)
            {
                return await HttpGetAsync(target, http, deadline.Token);
            }
            if (probe.TcpSocket is { } tcp)
            {
                return await TcpAsync(target, tcp, deadline.Token);
            }
            if (probe.Grpc is { } grpc)
            {
                // Its own deadline: kubelet tells a connect timeout from an rpc timeout.
                return await _grpc.RunAsync(target, grpc, timeout, cancellationToken);
            }
            return new(ProbeResult.Unknown, "missing probe handler");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new(ProbeResult.Failure, $"timeout: probe did not answer within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s");
        }
    }

    /// <summary>An exec action (probe or hook): success on exit code 0; the command's output either way.</summary>
    public async Task<ProbeOutcome> ExecAsync(ProbeTarget target, V1ExecAction action, TimeSpan timeout, CancellationToken ct)
    {
        if (exec is null)
        {
            return new(ProbeResult.Unknown, "this node's runtime cannot exec in containers");
        }
        if (action.Command is not { Count: > 0 } command)
        {
            return new(ProbeResult.Failure, "exec probe has no command");
        }
        try
        {
            var (code, output) = await exec.ExecAsync(target.ContainerId, [.. command], timeout, ct);
            return code == 0
                ? new(ProbeResult.Success, output)
                : new(ProbeResult.Failure, output.Length > 0 ? output : $"command {Quote(string.Join(' ', command))} exited with {code}");
        }
        catch (RuntimeException e)
        {
            return new(ProbeResult.Unknown, e.Message);
        }
    }

    private async Task<ProbeOutcome> TcpAsync(ProbeTarget target, V1TCPSocketAction tcp, CancellationToken ct)
    {
        if (Port(target.Container, tcp.Port?.Value) is not { } port)
        {
            return new(ProbeResult.Failure, $"unable to find port {Quote(tcp.Port?.Value ?? "")} in container {target.Container.Name}");
        }
        if (await AddressAsync(tcp.Host, target, ct) is not { } address)
        {
            return new(ProbeResult.Failure, $"cannot resolve host {Quote(tcp.Host ?? "")}");
        }
        var endpoint = new IPEndPoint(address, port);
        try
        {
            using var socket = sockets.CreateSocket(target.SandboxId, address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(endpoint, ct);
            return new(ProbeResult.Success, "");
        }
        catch (SocketException e)
        {
            return new(ProbeResult.Failure, $"dial tcp {endpoint}: connect: {SocketText(e)}");
        }
        catch (RuntimeException e)
        {
            return new(ProbeResult.Unknown, e.Message);
        }
    }

    /// <summary>An httpGet action (probe or hook) from the pod's network namespace; ends when <paramref name="ct"/> does.</summary>
    public async Task<ProbeOutcome> HttpGetAsync(ProbeTarget target, V1HTTPGetAction http, CancellationToken ct)
    {
        var scheme = (http.Scheme ?? "HTTP").ToUpperInvariant();
        if (scheme is not ("HTTP" or "HTTPS"))
        {
            return new(ProbeResult.Failure, $"unsupported scheme {Quote(http.Scheme ?? "")}");
        }
        if (Port(target.Container, http.Port?.Value) is not { } port)
        {
            return new(ProbeResult.Failure, $"unable to find port {Quote(http.Port?.Value ?? "")} in container {target.Container.Name}");
        }
        if (await AddressAsync(http.Host, target, ct) is not { } address)
        {
            return new(ProbeResult.Failure, $"cannot resolve host {Quote(http.Host ?? "")}");
        }
        var path = http.Path ?? "/";
        if (path.Any(char.IsControl) || path.Contains(' ', StringComparison.Ordinal))
        {
            return new(ProbeResult.Failure, $"invalid path {Quote(path)}");
        }
        var host = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        if (!Uri.TryCreate($"{scheme.ToLowerInvariant()}://{host}:{port}{(path.StartsWith('/') ? "" : "/")}{path}", UriKind.Absolute, out var url))
        {
            return new(ProbeResult.Failure, $"invalid path {Quote(path)}");
        }

        for (var redirects = 0; ; redirects++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Options.Set(TargetKey, new HttpTarget(target.SandboxId, address));
            if (AddHeaders(request, http.HttpHeaders) is { } bad)
            {
                return new(ProbeResult.Failure, bad);
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, ct);
            }
            catch (HttpRequestException e)
            {
                return new(ProbeResult.Failure, $"Get {Quote(url.ToString())}: {(e.InnerException is SocketException s ? $"dial tcp {url.Host}:{url.Port}: connect: {SocketText(s)}" : e.Message)}");
            }
            catch (RuntimeException e)
            {
                return new(ProbeResult.Unknown, e.Message);
            }
            using (response)
            {
                var code = (int)response.StatusCode;
                if (code is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (next.Host != url.Host || next.Scheme is not ("http" or "https"))
                    {
                        // kubelet: a redirect to another host is not followed, and is a success with a warning.
                        return new(ProbeResult.Warning, $"Probe terminated redirects, Response body: {await BodyAsync(response, ct)}");
                    }
                    if (redirects >= MaxRedirects)
                    {
                        return new(ProbeResult.Failure, $"Get {Quote(next.ToString())}: stopped after {MaxRedirects} redirects");
                    }
                    url = next;
                    continue;
                }
                var body = await BodyAsync(response, ct);
                return code is >= 200 and < 400
                    ? new(ProbeResult.Success, body)
                    : new(ProbeResult.Failure, $"HTTP probe failed with statuscode: {code}");
            }
        }
    }

    /// <summary>The probe's headers (kubelet's defaults, which a header of the probe replaces); a message when one is invalid.</summary>
    private static string? AddHeaders(HttpRequestMessage request, IList<V1HTTPHeader>? headers)
    {
        request.Headers.ConnectionClose = true;
        var given = headers ?? [];
        if (!given.Any(h => string.Equals(h.Name, "User-Agent", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        }
        if (!given.Any(h => string.Equals(h.Name, "Accept", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.TryAddWithoutValidation("Accept", "*/*");
        }
        foreach (var h in given)
        {
            var name = h.Name ?? "";
            var value = h.Value ?? "";
            if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 127 || c == ':') || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                return $"invalid header {Quote(name)}";
            }
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.Remove(name);
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }
        return null;
    }

    private static async Task<string> BodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[MaxBody];
        var total = 0;
        int n;
        while (total < MaxBody && (n = await stream.ReadAsync(buffer.AsMemory(total), ct)) > 0)
        {
            total += n;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>A port by number (1–65535) or by the name of one of the container's ports; null when neither.</summary>
    public static int? Port(V1Container container, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number is >= 1 and <= 65535 ? number : null;
        }
        return container.Ports?.FirstOrDefault(p => p.Name == value)?.ContainerPort is int named and >= 1 and <= 65535 ? named : null;
    }

    /// <summary>The probe's host (an IP, or a name the node resolves), else the pod's IP, else loopback (inside the
    /// pod's namespace that is the pod).</summary>
    private static async Task<IPAddress?> AddressAsync(string? host, ProbeTarget target, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(host))
        {
            return target.PodIp is { } ip && IPAddress.TryParse(ip, out var pod) ? pod : IPAddress.Loopback;
        }
        if (IPAddress.TryParse(host, out var literal))
        {
            return literal;
        }
        if (host.Length > 253 || !host.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
        {
            return null;
        }
        try
        {
            return (await Dns.GetHostAddressesAsync(host, ct)).FirstOrDefault();
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static string SocketText(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostUnreachable => "no route to host",
        SocketError.NetworkUnreachable => "network is unreachable",
        SocketError.TimedOut => "i/o timeout",
        _ => e.Message.ToLowerInvariant(),
    };

    private static string Quote(string s) => "\"" + new string(s.Take(256).Select(c => char.IsControl(c) ? '?' : c).ToArray()) + "\"";
}
