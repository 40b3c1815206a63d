using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NodeAgent.Proxy.Iptables;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// The userspace proxy mode (kube-proxy's original design): a listener on the node per service port (TCP or UDP),
/// kept while the service port exists, forwarding to its endpoints round-robin (<see cref="RoundRobinBalancer"/>);
/// iptables rules (<see cref="UserspaceRules"/>) send the service's traffic to the listener. Every sync updates each
/// listener's endpoints (ready ones, else serving-and-terminating ones; traffic policies do not apply in this mode)
/// and rewrites the rules in one restore; a full sync also reads iptables-save to add missing jumps. A service port
/// whose listener cannot be bound is left out with a log line; the rest keep working.
/// </summary>
public sealed partial class UserspaceProxier(Linux.Iptables iptables, UserspaceSettings settings, ILogger logger) : IProxyBackend, IAsyncDisposable
{
    private readonly NodeSockets _sockets = new(settings.NodeNetns);
    private readonly Dictionary<ServicePortName, Portal> _portals = [];
    // One splice loop forwards every TCP connection of every portal.
    private readonly Lazy<Linux.SplicePump> _pump = new(() => new Linux.SplicePump());

    /// <summary>The text of the last restore (for tests).</summary>
    public string? LastRestore { get; private set; }

    /// <summary>The listener port of a service port, or null when it has none (tests, explain).</summary>
    public int? ProxyPortOf(ServicePortName name) => _portals.TryGetValue(name, out var p) ? p.ProxyPort : null;

    /// <summary>UDP clients with a live session, over every service.</summary>
    public int UdpSessions => _portals.Values.OfType<UdpPortal>().Sum(p => p.Sessions);

    public async Task SyncAsync(ProxyState state, bool full, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var live = new List<UserspaceRules.Portal>(state.Services.Count);
        foreach (var (name, svc) in state.Services.OrderBy(s => s.Key.ToString(), StringComparer.Ordinal))
        {
            var portal = await EnsurePortalAsync(name, svc);
            if (portal is null)
            {
                continue;
            }
            var endpoints = EndpointSelection.Of(svc with { InternalPolicyLocal = false, ExternalPolicyLocal = false }, state.EndpointsOf(name)).Cluster;
            portal.Balancer.Update(endpoints.Select(e => new IPEndPoint(e.Address, e.Port)).ToList(),
                svc.StickySeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            live.Add(new UserspaceRules.Portal(svc, portal.ProxyPort, endpoints.Count > 0));
        }
        foreach (var gone in _portals.Keys.Where(k => !state.Services.ContainsKey(k)).ToList())
        {
            await _portals[gone].DisposeAsync();
            _portals.Remove(gone);
        }

        var save = full ? await iptables.SaveAsync(null, cancellationToken) : null;
        var text = UserspaceRules.Build(live, settings.HostAddress, save);
        await iptables.RestoreAsync(text, cancellationToken);
        LastRestore = text;
        Log.Synced(logger, full ? "full" : "partial", live.Count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>The service port's listener, opened (or reopened for a new protocol) when needed; null when the node
    /// refused to bind it.</summary>
    private async Task<Portal?> EnsurePortalAsync(ServicePortName name, ServicePort svc)
    {
        if (_portals.TryGetValue(name, out var portal))
        {
            if (portal.Protocol == svc.Protocol)
            {
                return portal;
            }
            await portal.DisposeAsync();
            _portals.Remove(name);
        }
        try
        {
            portal = svc.Protocol == L4Protocol.Tcp
                ? TcpPortal.Open(name, _sockets, _pump.Value, settings, logger)
                : UdpPortal.Open(name, _sockets, settings, logger);
        }
        catch (SocketException ex)
        {
            Log.ListenFailed(logger, name, svc.Protocol.Name(), settings.ListenAddress, ex.SocketErrorCode.ToString(), ex.Message);
            return null;
        }
        _portals[name] = portal;
        Log.Listening(logger, name, svc.Protocol.Name(), settings.ListenAddress, portal.ProxyPort);
        return portal;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var portal in _portals.Values)
        {
            await portal.DisposeAsync();
        }
        _portals.Clear();
        if (_pump.IsValueCreated)
        {
            _pump.Value.Dispose();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Service {Service} ({Protocol}): listening on {Address}:{Port}")]
        public static partial void Listening(ILogger logger, ServicePortName service, string protocol, IPAddress address, int port);

        [LoggerMessage(Level = LogLevel.Error, Message = "Service {Service} ({Protocol}): cannot listen on {Address}: {Error} ({Message}); the service port is skipped")]
        public static partial void ListenFailed(ILogger logger, ServicePortName service, string protocol, IPAddress address, string error, string message);

        [LoggerMessage(Level = LogLevel.Information, Message = "userspace {Kind} sync: {Services} service ports, {Milliseconds:F1} ms")]
        public static partial void Synced(ILogger logger, string kind, int services, double milliseconds);
    }
}
