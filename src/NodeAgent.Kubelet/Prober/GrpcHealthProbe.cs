using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Prober;

/// <summary>
/// A <c>grpc</c> probe as kubelet's grpc prober runs it: the standard <c>grpc.health.v1.Health/Check</c> with the
/// probe's <c>service</c> (empty when unset), over h2c (no TLS), within <c>timeoutSeconds</c>, to the pod's IP (here
/// from a socket made in the pod's own network namespace, so loopback when the pod has no routable address).
/// kubelet dials with <c>WithBlock</c>: a refused connection is retried with backoff until the deadline, so it ends as
/// a timeout, as here. Messages are kubelet's: <c>service healthy</c>, <c>service unhealthy (responded with
/// "NOT_SERVING")</c>, <c>timeout: failed to connect service ":PORT" within 1s: context deadline exceeded</c>,
/// <c>timeout: health rpc did not complete within 1s</c>, <c>error: this server does not implement the grpc health
/// protocol (grpc.health.v1.Health): …</c>, <c>error: health rpc probe failed: rpc error: code = … desc = …</c>.
/// </summary>
internal sealed class GrpcHealthProbe(ISandboxSockets sockets)
{
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(120);

    public async Task<ProbeOutcome> RunAsync(ProbeTarget target, V1GRPCAction grpc, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        // kubelet's address text: the pod's IP (empty when it has none) and the port.
        var address = FormatAddress(target.PodIp ?? "", grpc.Port);
        var within = timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        if (grpc.Port is < 1 or > 65535)
        {
            return new(ProbeResult.Failure, $"error: failed to connect service at \"{address}\": invalid port {grpc.Port.ToString(CultureInfo.InvariantCulture)}");
        }
        var ip = target.PodIp is { } podIp && IPAddress.TryParse(podIp, out var parsed) ? parsed : IPAddress.Loopback;
        var endpoint = new IPEndPoint(ip, grpc.Port);

        Socket? connected;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(timeout);
            try
            {
                connected = await ConnectAsync(target.SandboxId, endpoint, deadline.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new(ProbeResult.Failure, $"timeout: failed to connect service \"{address}\" within {within}: context deadline exceeded");
            }
            catch (RuntimeException e)
            {
                return new(ProbeResult.Unknown, e.Message);
            }
        }

        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            // The one connection made above, in the pod's namespace; a second one (which a probe never needs) fails.
            ConnectCallback = (_, _) => Interlocked.Exchange(ref connected, null) is { } socket
                ? ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true))
                : ValueTask.FromException<Stream>(new HttpRequestException("grpc probe: connection closed")),
        };
        try
        {
            using var channel = GrpcChannel.ForAddress(new Uri($"http://{FormatAddress(ip.ToString(), grpc.Port)}"), new GrpcChannelOptions
            {
                HttpHandler = new UserAgentHandler(handler),
                DisposeHttpClient = true,
                MaxRetryAttempts = 0,
            });
            var reply = await new Health.HealthClient(channel).CheckAsync(
                new HealthCheckRequest { Service = grpc.Service ?? "" }, deadline: started + timeout, cancellationToken: cancellationToken);
            return reply.Status == HealthCheckResponse.Types.ServingStatus.Serving
                ? new(ProbeResult.Success, "service healthy")
                : new(ProbeResult.Failure, $"service unhealthy (responded with \"{StatusName(reply.Status)}\")");
        }
        catch (RpcException e) when (!cancellationToken.IsCancellationRequested)
        {
            return e.StatusCode switch
            {
                StatusCode.Unimplemented => new(ProbeResult.Failure, $"error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {e.Status.Detail}"),
                StatusCode.DeadlineExceeded => new(ProbeResult.Failure, $"timeout: health rpc did not complete within {within}"),
                _ => new(ProbeResult.Failure, $"error: health rpc probe failed: rpc error: code = {CodeName(e.StatusCode)} desc = {e.Status.Detail}"),
            };
        }
        finally
        {
            connected?.Dispose();
        }
    }

    /// <summary>Connects from the pod's namespace, retrying a refused or unreachable address with grpc's backoff
    /// (1 s, ×1.6, at most 120 s) until <paramref name="ct"/> ends, as grpc's blocking dial does.</summary>
    private async Task<Socket> ConnectAsync(string sandboxId, IPEndPoint endpoint, CancellationToken ct)
    {
        var backoff = FirstBackoff;
        while (true)
        {
            var socket = sockets.CreateSocket(sandboxId, endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.NoDelay = true;
                await socket.ConnectAsync(endpoint, ct);
                return socket;
            }
            catch (SocketException)
            {
                socket.Dispose();
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            await Task.Delay(backoff, ct);
            backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, (long)(backoff.Ticks * 1.6)));
        }
    }

    private static string FormatAddress(string host, int port) =>
        (host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>The status as grpc-go's enum prints it (an unknown value as its number).</summary>
    private static string StatusName(HealthCheckResponse.Types.ServingStatus status) => status switch
    {
        HealthCheckResponse.Types.ServingStatus.Unknown => "UNKNOWN",
        HealthCheckResponse.Types.ServingStatus.Serving => "SERVING",
        HealthCheckResponse.Types.ServingStatus.NotServing => "NOT_SERVING",
        HealthCheckResponse.Types.ServingStatus.ServiceUnknown => "SERVICE_UNKNOWN",
        _ => ((int)status).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The code as grpc-go names it (grpc-go spells Cancelled "Canceled"; the others agree).</summary>
    private static string CodeName(StatusCode code) => code == StatusCode.Cancelled ? "Canceled" : code.ToString();

    /// <summary>kubelet's grpc prober identifies itself as <c>kube-probe/MAJOR.MINOR</c>.</summary>
    private sealed class UserAgentHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove("User-Agent");
            request.Headers.TryAddWithoutValidation("User-Agent", ProbeRunner.UserAgent);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
