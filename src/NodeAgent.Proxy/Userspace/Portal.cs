using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// One service port's listener on the node in userspace mode (TCP or UDP): its bound socket (a kernel-chosen port on
/// <see cref="UserspaceSettings.ListenAddress"/>, where the iptables rules send the service's traffic), the endpoints
/// it forwards to (its balancer), and a serving loop. Disposing closes the listener and ends its connections or
/// sessions.
/// </summary>
internal abstract class Portal : IAsyncDisposable
{
    private Task _serving = Task.CompletedTask;

    protected Portal(ServicePortName name, Socket listener, NodeSockets sockets, UserspaceSettings settings, ILogger logger)
    {
        Name = name;
        Listener = listener;
        Sockets = sockets;
        Settings = settings;
        Logger = logger;
        Balancer = new RoundRobinBalancer(settings.Time);
        ProxyPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    public abstract L4Protocol Protocol { get; }

    public int ProxyPort { get; }

    public RoundRobinBalancer Balancer { get; }

    protected ServicePortName Name { get; }

    protected Socket Listener { get; }

    protected NodeSockets Sockets { get; }

    protected UserspaceSettings Settings { get; }

    protected ILogger Logger { get; }

    protected CancellationTokenSource Stop { get; } = new();

    /// <summary>Binds <paramref name="listener"/> and starts the portal <paramref name="make"/> builds on it; throws <see cref="SocketException"/> when the node refuses.</summary>
    protected static T Open<T>(Socket listener, UserspaceSettings settings, Func<Socket, T> make)
        where T : Portal
    {
        try
        {
            listener.Bind(new IPEndPoint(settings.ListenAddress, 0));
            if (listener.SocketType == SocketType.Stream)
            {
                listener.Listen(4096);
            }
            var portal = make(listener);
            portal._serving = Task.Run(portal.ServeAsync);
            return portal;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>Accepts or receives until <see cref="Stop"/>.</summary>
    protected abstract Task ServeAsync();

    /// <summary>After the serving loop ended: end what is still open.</summary>
    protected virtual void Closed()
    {
    }

    public async ValueTask DisposeAsync()
    {
        await Stop.CancelAsync();
        Listener.Dispose();
        await _serving;
        Closed();
        Stop.Dispose();
    }
}
