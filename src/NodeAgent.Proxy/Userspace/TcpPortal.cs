using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NodeAgent.Linux;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// A TCP service port in userspace mode: a listener on a kernel-chosen port; each accepted connection goes to the
/// balancer's next endpoint, and when the connect fails (refused, unreachable, or slower than its timeout) to the
/// next one, up to one attempt per <see cref="UserspaceSettings.ConnectTimeouts"/> entry, as kube-proxy's
/// userspace proxier. A connection no endpoint takes is reset. The bytes go both ways through the kernel
/// (<see cref="SplicePump"/>: splice through a pipe per direction, no copy through user space).
/// </summary>
internal sealed partial class TcpPortal : Portal
{
    private readonly SplicePump _pump;

    private TcpPortal(ServicePortName name, Socket listener, NodeSockets sockets, SplicePump pump, UserspaceSettings settings, ILogger logger)
        : base(name, listener, sockets, settings, logger)
    {
        _pump = pump;
    }

    public override L4Protocol Protocol => L4Protocol.Tcp;

    /// <summary>Binds and listens; throws <see cref="SocketException"/> when the node refuses.</summary>
    public static TcpPortal Open(ServicePortName name, NodeSockets sockets, SplicePump pump, UserspaceSettings settings, ILogger logger) =>
        Open(sockets.Tcp(), settings, listener => new TcpPortal(name, listener, sockets, pump, settings, logger));

    protected override async Task ServeAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await Listener.AcceptAsync(Stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // One failed accept (the client gave up, no descriptors left) must not end the listener.
                Log.AcceptFailed(Logger, Name, ex.Message);
                continue;
            }
            _ = ForwardAsync(client);
        }
    }

    private async Task ForwardAsync(Socket client)
    {
        using (client)
        {
            try
            {
                client.NoDelay = true;
                var source = ((IPEndPoint)client.RemoteEndPoint!).Address;
                using var backend = await ConnectAsync(source);
                if (backend is null)
                {
                    client.LingerState = new LingerOption(true, 0);
                    return;
                }
                // Ended (both ways, or by an error on one side): both sockets are closed here.
                await _pump.BridgeAsync(client.SafeHandle, backend.SafeHandle, Stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException or LinuxException)
            {
                // The client went away or the portal closed: nothing to forward any more.
            }
        }
    }

    /// <summary>A connected socket to an endpoint, trying the next one after a failure; null when none answered.</summary>
    private async Task<Socket?> ConnectAsync(IPAddress source)
    {
        for (var attempt = 0; attempt < Settings.ConnectTimeouts.Count; attempt++)
        {
            var endpoint = Balancer.Next(source, skipAffinity: attempt > 0);
            if (endpoint is null)
            {
                Log.NoEndpoints(Logger, Name);
                return null;
            }
            var socket = Sockets.Tcp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stop.Token);
            timeout.CancelAfter(Settings.ConnectTimeouts[attempt]);
            try
            {
                await socket.ConnectAsync(endpoint, timeout.Token);
                socket.NoDelay = true;
                return socket;
            }
            catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !Stop.IsCancellationRequested))
            {
                socket.Dispose();
                Log.ConnectFailed(Logger, Name, endpoint, ex is SocketException se ? se.SocketErrorCode.ToString() : "timed out");
            }
        }
        Log.NoEndpointAnswered(Logger, Name, Settings.ConnectTimeouts.Count);
        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Service {Service}: accept failed: {Error}")]
        public static partial void AcceptFailed(ILogger logger, ServicePortName service, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service}: connect to endpoint {Endpoint} failed ({Error}); trying the next endpoint")]
        public static partial void ConnectFailed(ILogger logger, ServicePortName service, IPEndPoint endpoint, string error);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Service {Service}: no endpoint answered in {Attempts} attempts; connection reset")]
        public static partial void NoEndpointAnswered(ILogger logger, ServicePortName service, int attempts);

        [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service}: no endpoints; connection reset")]
        public static partial void NoEndpoints(ILogger logger, ServicePortName service);
    }
}
