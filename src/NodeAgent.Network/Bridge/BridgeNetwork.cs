using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Linux;
using NodeAgent.Network.Iptables;
using NodeAgent.Network.Ipam;
using NodeAgent.Network.Netlink;
using NodeAgent.Cri;

namespace NodeAgent.Network.Bridge;

/// <summary>
/// The built-in pod network: one Linux bridge holding the gateway address, a veth pair per sandbox (the pod's end
/// created directly inside its namespace as <c>eth0</c>), an address from the pod CIDR, a default route via the
/// bridge; masquerade and hostPort DNAT through <see cref="NatRules"/>. Links, addresses and routes go through
/// rtnetlink; nothing runs a command per pod unless the pod publishes host ports.
/// </summary>
public sealed partial class BridgeNetwork : IPodNetwork, IDisposable
{
    public const string PodInterface = "eth0";

    private readonly BridgeNetworkOptions _options;
    private readonly Ipv4Cidr _cidr;
    private readonly IpAllocator _ipam;
    private readonly NatRules _nat;
    private readonly string _recordsDir;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _nodeSetup = new(1, 1);
    private readonly SemaphoreSlim _hostPortSync = new(1, 1);
    private readonly Lock _nodeLinkLock = new();
    private RtNetlink? _node;
    private volatile bool _nodeReady;
    private int _bridgeIndex;

    public BridgeNetwork(BridgeNetworkOptions options, ILogger<BridgeNetwork>? logger = null)
    {
        _options = options;
        _cidr = Ipv4Cidr.Parse(options.PodCidr);
        if (options.Mtu is < 68 or > 65535)
        {
            throw new FormatException($"network MTU {options.Mtu}: must be between 68 and 65535");
        }

        _ipam = new IpAllocator(_cidr, options.StateDir);
        _nat = new NatRules(new NodeCommand(options.NodeNetns));
        _recordsDir = Path.Combine(options.StateDir, "pods");
        Directory.CreateDirectory(_recordsDir);
        _logger = logger ?? NullLogger<BridgeNetwork>.Instance;
    }

    public IpAllocator Ipam => _ipam;

    public static string HostVethName(string sandboxId) => "na" + sandboxId[..Math.Min(12, sandboxId.Length)];

    public async Task<PodNetworkStatus> SetUpAsync(PodNetworkRequest request, CancellationToken cancellationToken)
    {
        try
        {
            // The pod IP is not known yet: check the mappings' own values against a placeholder address.
            NatRules.Validate(request.PortMappings, "0.0.0.0");
        }
        catch (ArgumentException ex)
        {
            throw new IOException($"sandbox {request.SandboxId[..Math.Min(12, request.SandboxId.Length)]} (pod {request.PodNamespace}/{request.PodName}): {ex.Message}", ex);
        }
        await EnsureNodeAsync(cancellationToken);
        var hostVeth = HostVethName(request.SandboxId);
        try
        {
            var ip = _ipam.Allocate(request.SandboxId);
            using (var podNetns = File.OpenHandle(request.NetnsPath, FileMode.Open, FileAccess.Read))
            {
                Node(node =>
                {
                    node.CreateVeth(hostVeth, _bridgeIndex, PodInterface, podNetns, _options.Mtu);
                    if (request.PortMappings.Count > 0)
                    {
                        node.SetHairpin(node.LinkIndex(hostVeth) ?? throw new IOException($"veth {hostVeth} vanished"), hostVeth);
                    }

                    return true;
                });
            }

            RtNetlink.Run(request.NetnsPath, pod =>
            {
                var index = pod.LinkIndex(PodInterface) ?? throw new IOException($"{PodInterface} missing in {request.NetnsPath} after creating it");
                pod.SetUp(index, PodInterface);
                pod.AddAddress(index, PodInterface, ip, _cidr.PrefixLength);
                pod.AddDefaultRoute(index, PodInterface, _cidr.Gateway);
                return true;
            });

            var record = new PodNetworkRecord { SandboxId = request.SandboxId, Ip = ip.ToString(), HostVeth = hostVeth, Ports = [.. request.PortMappings] };
            AtomicFile.Write(RecordPath(request.SandboxId), JsonSerializer.SerializeToUtf8Bytes(record, NetworkJsonContext.Default.PodNetworkRecord));
            if (record.Ports.Count > 0)
            {
                await SyncHostPortsAsync(cancellationToken);
            }

            return new PodNetworkStatus([ip.ToString()]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await TearDownAsync(request, CancellationToken.None);
            throw new IOException($"sandbox {request.SandboxId[..12]} (pod {request.PodNamespace}/{request.PodName}): {ex.Message}", ex);
        }
    }

    public async Task TearDownAsync(PodNetworkRequest request, CancellationToken cancellationToken)
    {
        await EnsureNodeAsync(cancellationToken);
        Node(node => node.DeleteLink(HostVethName(request.SandboxId)));

        var record = ReadRecord(request.SandboxId);
        File.Delete(RecordPath(request.SandboxId));
        _ipam.Release(request.SandboxId);
        if (record?.Ports.Count > 0)
        {
            await SyncHostPortsAsync(cancellationToken);
        }
    }

    public async Task CheckAsync(PodNetworkRequest request, CancellationToken cancellationToken)
    {
        await EnsureNodeAsync(cancellationToken);
        var record = ReadRecord(request.SandboxId) ?? throw new IOException($"sandbox {request.SandboxId[..12]}: no pod network record");
        if (!_ipam.Allocations().Any(a => a.Owner == request.SandboxId && a.Address.ToString() == record.Ip))
        {
            throw new IOException($"sandbox {request.SandboxId[..12]}: address {record.Ip} is not allocated to it");
        }

        if (Node(node => node.LinkIndex(record.HostVeth)) is null)
        {
            throw new IOException($"sandbox {request.SandboxId[..12]}: host veth {record.HostVeth} is missing");
        }
    }

    public async Task ReconcileAsync(IReadOnlyCollection<string> liveSandboxIds, CancellationToken cancellationToken)
    {
        await EnsureNodeAsync(cancellationToken);
        var live = liveSandboxIds.ToHashSet(StringComparer.Ordinal);
        foreach (var owner in _ipam.Reclaim(id => live.Contains(id)))
        {
            LogReclaimed(owner);
        }

        var stale = Directory.EnumerateFiles(_recordsDir, "*.json").Where(f => !live.Contains(Path.GetFileNameWithoutExtension(f))).ToList();
        foreach (var file in stale)
        {
            Node(node => node.DeleteLink(HostVethName(Path.GetFileNameWithoutExtension(file))));

            File.Delete(file);
        }

        await SyncHostPortsAsync(cancellationToken);
    }

    /// <summary>Removes the bridge, the agent's iptables chains and all allocation state (<c>nodeagent network cleanup</c>).</summary>
    public async Task CleanupAsync(CancellationToken cancellationToken)
    {
        await _nat.CleanupAsync(cancellationToken);
        _node ??= _options.NodeNetns is null ? RtNetlink.Open() : null;
        Node(node =>
        {
            foreach (var file in Directory.EnumerateFiles(_recordsDir, "*.json"))
            {
                node.DeleteLink(HostVethName(Path.GetFileNameWithoutExtension(file)));
            }

            return node.DeleteLink(_options.BridgeName);
        });

        Directory.Delete(_options.StateDir, recursive: true);
    }

    public void Dispose()
    {
        _node?.Dispose();
        _nodeSetup.Dispose();
        _hostPortSync.Dispose();
    }

    private async Task EnsureNodeAsync(CancellationToken cancellationToken)
    {
        if (_nodeReady)
        {
            return;
        }

        await _nodeSetup.WaitAsync(cancellationToken);
        try
        {
            if (_nodeReady)
            {
                return;
            }

            // In the agent's own namespace one socket serves for its lifetime; for a namespace given by path (tests,
            // benchmarks) each request runs on a thread inside it (see RtNetlink.Run).
            var own = _options.NodeNetns is null ? RtNetlink.Open() : null;
            try
            {
                var index = NodeWith(own, node =>
                {
                    node.CreateBridge(_options.BridgeName, _options.Mtu);
                    var index = node.LinkIndex(_options.BridgeName) ?? throw new IOException($"bridge {_options.BridgeName} vanished after creating it");
                    node.AddAddress(index, _options.BridgeName, _cidr.Gateway, _cidr.PrefixLength);
                    node.SetUp(index, _options.BridgeName);
                    return index;
                });
                NetworkNamespace.WriteSysctl(_options.NodeNetns, "net.ipv4.ip_forward", "1");
                EnableBridgeNetfilter();
                await _nat.EnsureBaseAsync(_cidr.ToString(), cancellationToken);
                _bridgeIndex = index;
                _node = own;
                _nodeReady = true;
                LogBridgeReady(_options.BridgeName, _cidr.Gateway, _cidr.ToString());
            }
            catch
            {
                own?.Dispose();
                throw;
            }
        }
        finally
        {
            _nodeSetup.Release();
        }
    }

    private T Node<T>(Func<RtNetlink, T> work) => NodeWith(_node, work);

    private T NodeWith<T>(RtNetlink? own, Func<RtNetlink, T> work)
    {
        if (own is null)
        {
            return RtNetlink.Run(_options.NodeNetns!, work);
        }

        lock (_nodeLinkLock)
        {
            return work(own);
        }
    }

    private async Task SyncHostPortsAsync(CancellationToken cancellationToken)
    {
        await _hostPortSync.WaitAsync(cancellationToken);
        try
        {
            var pods = Directory.EnumerateFiles(_recordsDir, "*.json")
                .Select(f => ReadRecord(Path.GetFileNameWithoutExtension(f)))
                .Where(r => r is { Ports.Count: > 0 })
                .Select(r => new NatRules.PodPorts(r!.SandboxId, r.Ip, r.Ports));
            await _nat.SyncHostPortsAsync(pods, cancellationToken, (sandbox, error) => LogInvalidPort(sandbox, error));
        }
        finally
        {
            _hostPortSync.Release();
        }
    }

    private string RecordPath(string sandboxId) => Path.Combine(_recordsDir, sandboxId + ".json");

    private PodNetworkRecord? ReadRecord(string sandboxId)
    {
        var path = RecordPath(sandboxId);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), NetworkJsonContext.Default.PodNetworkRecord) : null;
        }
        catch (JsonException ex)
        {
            throw new IOException($"pod network record {path}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Bridged traffic through iptables (<c>net.bridge.bridge-nf-call-iptables=1</c>, as kubenet and k3s set it): a
    /// pod's connection to a service IP whose endpoint sits on the same bridge is DNATed on its way in, and the
    /// endpoint's answer, which crosses the bridge only, must meet conntrack to be translated back. Without
    /// br_netfilter in the kernel that one case fails, so it is a warning, not an error.
    /// </summary>
    private void EnableBridgeNetfilter()
    {
        try
        {
            NetworkNamespace.WriteSysctl(_options.NodeNetns, "net.bridge.bridge-nf-call-iptables", "1");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogNoBridgeNetfilter(e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod network: cannot set net.bridge.bridge-nf-call-iptables=1 ({Error}); load br_netfilter, or connections from a pod to a service whose endpoint is on this node fail")]
    private partial void LogNoBridgeNetfilter(string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod network: bridge {Bridge} at {Gateway} for {Cidr}")]
    private partial void LogBridgeReady(string bridge, IPAddress gateway, string cidr);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod network: reclaimed the address of sandbox {Sandbox}, which no longer exists")]
    private partial void LogReclaimed(string sandbox);

    [LoggerMessage(Level = LogLevel.Error, Message = "pod network: sandbox {Sandbox}: hostPort mapping left out of the rules: {Error}")]
    private partial void LogInvalidPort(string sandbox, string error);
}
