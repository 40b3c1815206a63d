using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// A UDP service port in userspace mode: one listening socket; each client address gets a session, a socket
/// connected to the endpoint the balancer chose, whose replies go back to the client from the listener. A session
/// ends after <see cref="UserspaceSettings.UdpIdleTimeout"/> without a datagram either way (kube-proxy's
/// <c>--udp-timeout</c>); the client's next datagram starts a new one. Datagrams with no endpoint to go to are dropped.
/// </summary>
internal sealed partial class UdpPortal : Portal
{
    private const int MaxDatagram = 65535;

    private readonly Lock _lock = new();
    private readonly Dictionary<SocketAddress, Session> _sessions = [];

    private UdpPortal(ServicePortName name, Socket listener, NodeSockets sockets, UserspaceSettings settings, ILogger logger)
        : base(name, listener, sockets, settings, logger)
    {
    }

    public override L4Protocol Protocol => L4Protocol.Udp;

    /// <summary>The clients with a live session.</summary>
    public int Sessions
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Binds; throws <see cref="SocketException"/> when the node refuses.</summary>
    public static UdpPortal Open(ServicePortName name, NodeSockets sockets, UserspaceSettings settings, ILogger logger) =>
        Open(sockets.Udp(), settings, listener => new UdpPortal(name, listener, sockets, settings, logger));

    protected override async Task ServeAsync()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(MaxDatagram);
        var from = new SocketAddress(AddressFamily.InterNetwork);
        while (!Stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await Listener.ReceiveFromAsync(buffer, SocketFlags.None, from, Stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                Log.ReceiveFailed(Logger, Name, ex.SocketErrorCode.ToString());
                continue;
            }
            var session = SessionFor(from);
            if (session is null)
            {
                continue;
            }
            try
            {
                session.Touch(Settings.UdpIdleTimeout);
                await session.Backend.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, Stop.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The endpoint refused (ICMP) or the session just expired: the datagram is lost, as on the wire.
                session.End();
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The live session of a client, or a new one to the balancer's next endpoint; null without endpoints.</summary>
    private Session? SessionFor(SocketAddress from)
    {
        lock (_lock)
        {
            if (_sessions.TryGetValue(from, out var live))
            {
                return live;
            }
        }
        var client = (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(from);
        var endpoint = Balancer.Next(client.Address, skipAffinity: false);
        if (endpoint is null)
        {
            return null;
        }
        Socket? backend = null;
        try
        {
            backend = Sockets.Udp();
            backend.Connect(endpoint);
        }
        catch (SocketException ex)
        {
            // No socket to be had (descriptors exhausted) or no route: this datagram is lost, the portal goes on.
            backend?.Dispose();
            Log.ConnectFailed(Logger, Name, endpoint, ex.SocketErrorCode.ToString());
            return null;
        }
        var key = new SocketAddress(from.Family, from.Size);
        from.Buffer[..from.Size].CopyTo(key.Buffer);
        var session = new Session(key, backend, Stop.Token);
        lock (_lock)
        {
            _sessions[key] = session;
        }
        _ = RelayRepliesAsync(session);
        return session;
    }

    /// <summary>The endpoint's answers back to the client, from the listener (so from the service's address once
    /// conntrack undoes the redirect), until the session is idle too long.</summary>
    private async Task RelayRepliesAsync(Session session)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxDatagram);
        try
        {
            session.Touch(Settings.UdpIdleTimeout);
            while (true)
            {
                var n = await session.Backend.ReceiveAsync(buffer, SocketFlags.None, session.Idle);
                session.Touch(Settings.UdpIdleTimeout);
                await Listener.SendToAsync(buffer.AsMemory(0, n), SocketFlags.None, session.Client, Stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Idle past the timeout, the endpoint refused, or the portal closed: the session ends.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            lock (_lock)
            {
                if (_sessions.TryGetValue(session.Client, out var current) && current == session)
                {
                    _sessions.Remove(session.Client);
                }
            }
            session.Dispose();
        }
    }

    protected override void Closed()
    {
        List<Session> left;
        lock (_lock)
        {
            left = [.. _sessions.Values];
        }
        foreach (var s in left)
        {
            s.End();
        }
    }

    /// <summary>One client's flow: its address, the socket connected to its endpoint, and the idle timer.</summary>
    private sealed class Session(SocketAddress client, Socket backend, CancellationToken stop) : IDisposable
    {
        private readonly CancellationTokenSource _idle = CancellationTokenSource.CreateLinkedTokenSource(stop);

        public SocketAddress Client { get; } = client;

        public Socket Backend { get; } = backend;

        public CancellationToken Idle => _idle.Token;

        /// <summary>Traffic: the idle timer starts again.</summary>
        public void Touch(TimeSpan timeout)
        {
            try
            {
                _idle.CancelAfter(timeout);
            }
            catch (ObjectDisposedException)
            {
                // Ended meanwhile.
            }
        }

        public void End()
        {
            try
            {
                _idle.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Ended already.
            }
        }

        public void Dispose()
        {
            Backend.Dispose();
            _idle.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Service {Service}: receive failed: {Error}")]
        public static partial void ReceiveFailed(ILogger logger, ServicePortName service, string error);

        [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service}: cannot send to endpoint {Endpoint} ({Error}); datagram dropped")]
        public static partial void ConnectFailed(ILogger logger, ServicePortName service, IPEndPoint endpoint, string error);
    }
}
