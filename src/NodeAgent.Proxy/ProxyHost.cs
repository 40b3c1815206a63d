using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Events;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Linux;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Proxy.Userspace;
using Prometheus;

namespace NodeAgent.Proxy;

/// <summary>
/// <c>nodeagent proxy</c>: the proxy on its own, as kube-proxy runs: the API connection from the kubeconfig, informers
/// for services, EndpointSlices and this node, the iptables or the userspace proxier (<c>--proxy-mode</c>) in the
/// caller's network namespace, the health and metrics endpoints, and <see cref="ServiceProxy"/> until <c>stop</c>. Services skipped for a value the node cannot
/// program are logged and recorded as Warning events (reason <c>FailedToProgramService</c>) on the service.
/// </summary>
public sealed partial class ProxyHost(ProxyConfig config, ILoggerFactory loggers)
{
    private readonly TaskCompletionSource<ServiceProxy> _proxy = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<IReadOnlyList<string>> _urls = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The node's network namespace as a path (tests); null: the caller's.</summary>
    public string? NodeNetns { get; init; }

    /// <summary>The running proxy, once started.</summary>
    public Task<ServiceProxy> Proxy => _proxy.Task;

    /// <summary>The health and metrics servers' URLs, once listening.</summary>
    public Task<IReadOnlyList<string>> Urls => _urls.Task;

    public async Task RunAsync(CancellationToken stop)
    {
        var logger = loggers.CreateLogger("proxy");
        var clientConfig = config.Kubeconfig is { Length: > 0 } path ? KubeConfigLoader.LoadFile(path) : InClusterConfig.Load();
        var nodeName = (config.HostnameOverride ?? Dns.GetHostName()).Trim().ToLowerInvariant();
        using var api = new KubeApiConnection(clientConfig, loggers.CreateLogger<KubeApiConnection>());

        var health = new ProxyHealth(2 * config.SyncPeriod);
        var metrics = new ProxyMetrics(Metrics.NewCustomRegistry());
        var iptables = await IptablesAsync(NodeNetns, config.IptablesBackend, logger, stop);
        await using var userspace = config.Mode == "userspace"
            ? new UserspaceProxier(iptables, new UserspaceSettings
            {
                NodeNetns = NodeNetns,
                HostAddress = HostAddress(NodeNetns),
                UdpIdleTimeout = config.UdpIdleTimeout,
            }, loggers.CreateLogger<UserspaceProxier>())
            : null;
        IProxyBackend proxier = (IProxyBackend?)userspace ?? new IptablesProxier(iptables, new IptablesSettings
        {
            MasqueradeAll = config.MasqueradeAll,
            ClusterCidr = config.ClusterCidr,
            NodePortAddresses = config.NodePortAddresses.Count == 0 ? null : LocalAddressesIn(config.NodePortAddresses),
        }, loggers.CreateLogger<IptablesProxier>()) { Metrics = metrics };
        await using var serviceHealth = new ServiceHealthServer(IPAddress.Any, health, loggers);
        await using var events = new EventRecorder(new ResourceClient<Corev1Event, Corev1EventList>(api, KubeResources.Events), "kube-proxy", nodeName,
            loggers.CreateLogger<EventRecorder>());
        await using var proxy = new ServiceProxy(proxier, new ProxyOptions
        {
            NodeName = nodeName,
            MinSyncPeriod = config.MinSyncPeriod,
            SyncPeriod = config.SyncPeriod,
        }, loggers.CreateLogger<ServiceProxy>(), health: health, metrics: metrics)
        {
            ServiceHealth = serviceHealth,
        };
        proxy.ServiceSkipped += (svc, reason) => events.Event(new V1ObjectReference
        {
            Kind = "Service",
            ApiVersion = "v1",
            NamespaceProperty = svc.Metadata?.NamespaceProperty,
            Name = svc.Metadata?.Name,
            Uid = svc.Metadata?.Uid,
        }, "Warning", "FailedToProgramService", reason);

        await using var nodes = new Informer<V1Node, V1NodeList>(new ResourceClient<V1Node, V1NodeList>(api, KubeResources.Nodes),
            new InformerOptions { FieldSelector = $"metadata.name={nodeName}" }, loggers.CreateLogger("node-informer"));
        health.Node = () => nodes.Cache.List().FirstOrDefault();
        nodes.Start();

        await using var server = config.HealthzBindAddress is null && config.MetricsBindAddress is null
            ? null
            : new ProxyHealthServer(config.HealthzBindAddress, config.MetricsBindAddress, health, config.Mode, async ctx =>
            {
                ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
                await metrics.WriteAsync(ctx.Response.Body, ctx.RequestAborted);
            }, loggers);
        if (server is not null)
        {
            await server.StartAsync(stop);
        }
        _urls.TrySetResult(server?.Urls ?? []);

        await using var services = new Informer<V1Service, V1ServiceList>(new ResourceClient<V1Service, V1ServiceList>(api, KubeResources.Services),
            logger: loggers.CreateLogger("service-informer"));
        await using var slices = new Informer<V1EndpointSlice, V1EndpointSliceList>(
            new ResourceClient<V1EndpointSlice, V1EndpointSliceList>(api, KubeResources.EndpointSlices),
            logger: loggers.CreateLogger("endpointslice-informer"));
        Log.Starting(logger, nodeName, config.Mode);
        _proxy.TrySetResult(proxy);
        await proxy.RunAsync(services, slices, stop);
    }

    /// <summary><c>explain NAMESPACE/SERVICE</c>: the service and its EndpointSlices from the API server, the rules from
    /// this node's iptables-save, explained by <see cref="ServiceExplainer"/>.</summary>
    public async Task<string> ExplainAsync(string target, CancellationToken cancellationToken)
    {
        var parts = target.Split('/');
        if (parts.Length != 2 || !ApiNames.IsDnsLabel(parts[0]) || !ApiNames.IsDnsLabel(parts[1]))
        {
            throw new FormatException($"explain: \"{target}\" is not NAMESPACE/SERVICE");
        }
        var clientConfig = config.Kubeconfig is { Length: > 0 } path ? KubeConfigLoader.LoadFile(path) : InClusterConfig.Load();
        using var api = new KubeApiConnection(clientConfig, loggers.CreateLogger<KubeApiConnection>());
        var service = await new ResourceClient<V1Service, V1ServiceList>(api, KubeResources.Services).GetAsync(parts[0], parts[1], cancellationToken);
        var slices = await new ResourceClient<V1EndpointSlice, V1EndpointSliceList>(api, KubeResources.EndpointSlices)
            .ListAsync(parts[0], new ListOptions { LabelSelector = $"{EndpointSliceParser.ServiceNameLabel}={parts[1]}" }, cancellationToken);
        var iptables = await IptablesAsync(NodeNetns, config.IptablesBackend, NullLogger.Instance, cancellationToken);
        var save = await iptables.SaveAsync(null, cancellationToken);
        var nodeName = (config.HostnameOverride ?? Dns.GetHostName()).Trim().ToLowerInvariant();
        return ServiceExplainer.Explain(service, slices.Items, save, nodeName);
    }

    /// <summary><c>--cleanup</c>: removes the proxy's iptables chains and jumps (in the backend given, else the one
    /// detected); true when there was something.</summary>
    public static async Task<bool> CleanupAsync(string? nodeNetns, IptablesBackend? backend, CancellationToken cancellationToken) =>
        await IptablesCleanup.CleanupAsync(await IptablesAsync(nodeNetns, backend, NullLogger.Instance, cancellationToken), cancellationToken) is not null;

    /// <summary>
    /// The iptables runner for the node: the backend of <c>--iptables-backend</c>, or the one the node's rules are in
    /// (<see cref="IptablesBackendDetector"/>, the rule of kube-proxy's iptables-wrapper), logged with why.
    /// </summary>
    public static async Task<Linux.Iptables> IptablesAsync(string? nodeNetns, IptablesBackend? backend, ILogger logger, CancellationToken cancellationToken)
    {
        var node = new NodeCommand(nodeNetns);
        if (backend is { } given)
        {
            Log.Backend(logger, given.ToString().ToLowerInvariant(), "--iptables-backend");
            return new Linux.Iptables(node, given);
        }
        var (detected, reason) = await IptablesBackendDetector.DetectAsync(node, cancellationToken);
        Log.Backend(logger, detected.ToString().ToLowerInvariant(), reason);
        return new Linux.Iptables(node, detected);
    }

    /// <summary>
    /// The node's own address for the userspace mode's host portals: the source address the kernel picks toward a
    /// documentation address (192.0.2.1, TEST-NET-1), i.e. that of the default route. Connecting a UDP socket sends
    /// nothing. Null without a default route (host portals then REDIRECT, which serves TCP only).
    /// </summary>
    private static IPAddress? HostAddress(string? netns)
    {
        try
        {
            using var probe = netns is null
                ? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
                : NetworkNamespace.Run(netns, () => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
            probe.Connect(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 9));
            return ((IPEndPoint)probe.LocalEndPoint!).Address;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    /// <summary>This node's IPv4 addresses inside the given CIDRs (<c>--nodeport-addresses</c>).</summary>
    public static List<IPAddress> LocalAddressesIn(IReadOnlyList<(IPAddress Network, int Prefix)> cidrs) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses.Select(a => a.Address))
            .Where(a => a.AddressFamily == AddressFamily.InterNetwork && cidrs.Any(c => Contains(c, a)))
            .Distinct().ToList();

    private static bool Contains((IPAddress Network, int Prefix) cidr, IPAddress ip)
    {
        if (cidr.Network.AddressFamily != ip.AddressFamily)
        {
            return false;
        }
        var net = cidr.Network.GetAddressBytes();
        var bytes = ip.GetAddressBytes();
        for (var bit = 0; bit < cidr.Prefix; bit++)
        {
            var mask = 0x80 >> (bit % 8);
            if ((net[bit / 8] & mask) != (bytes[bit / 8] & mask))
            {
                return false;
            }
        }
        return true;
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Starting the service proxy for node {Node} in {Mode} mode")]
        public static partial void Starting(ILogger logger, string node, string mode);

        [LoggerMessage(Level = LogLevel.Information, Message = "Using the {Backend} iptables backend ({Reason})")]
        public static partial void Backend(ILogger logger, string backend, string reason);
    }
}
