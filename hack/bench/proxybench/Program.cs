using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Linux;
using NodeAgent.Proxy;
using NodeAgent.Proxy.Iptables;
using NodeAgent.Proxy.Userspace;

// The service proxy benchmarks' tool; every verb works in the caller's network namespace (the scripts nsenter it).
//   proxybench sync [--sizes 1000,5000,10000] [--endpoints 10] [--repeat 3] [--changes 10] [--backend auto|nft|legacy]
//       Full sync time of the iptables proxier for each size (services fed through the real change trackers), the
//       same rule text through a plain iptables-restore of the same backend, and at the largest size the sync of
//       one changed service. The backend: the one given, else detected as the proxy detects it.
//   proxybench program --mode iptables|userspace --service CLUSTERIP:PORT=ENDPOINTIP:PORT... [--host-address IP]
//       Programs the services (TCP, one endpoint each), prints "ready", serves until stdin closes, then cleans up.
//   proxybench hello --listen IP:PORT       answers every connection with one byte, then closes it.
//   proxybench latency --target IP:PORT [--count 2000]
//       Sequential connections: connect + first byte, prints "latency p50_ms=X p99_ms=Y".
var verb = args.Length > 0 ? args[0] : "";
var arg = ParseArgs(args.Skip(1).ToArray());
return verb switch
{
    "sync" => await SyncBenchAsync(arg),
    "program" => await ProgramAsync(arg),
    "hello" => await HelloAsync(arg),
    "latency" => await LatencyAsync(arg),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: proxybench sync|program|hello|latency [options] (see hack/bench/proxybench/Program.cs)");
    return 2;
}

static async Task<int> SyncBenchAsync(Dictionary<string, List<string>> arg)
{
    var sizes = One(arg, "--sizes", "1000,5000,10000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
    var perService = int.Parse(One(arg, "--endpoints", "10"), CultureInfo.InvariantCulture);
    var repeat = int.Parse(One(arg, "--repeat", "3"), CultureInfo.InvariantCulture);
    var iptables = await ProxyHost.IptablesAsync(null, IptablesBackendDetector.Parse(One(arg, "--backend", "auto")), NullLogger.Instance, CancellationToken.None);
    var restore = IptablesBackendDetector.Command(iptables.Backend!.Value, "iptables-restore");
    Console.WriteLine($"iptables backend: {iptables.Backend.Value.ToString().ToLowerInvariant()} (NodeAgent and the plain restore both run {restore})");
    var largest = sizes.Max();
    double ratio = double.NaN;
    foreach (var size in sizes)
    {
        await IptablesCleanup.CleanupAsync(iptables, CancellationToken.None);
        var feed = new Feed(perService);
        var proxier = new IptablesProxier(iptables, new IptablesSettings(), NullLogger.Instance);
        for (var i = 0; i < size; i++)
        {
            feed.Add(i);
        }
        var initial = await TimeAsync(() => proxier.SyncAsync(feed.Next(), true, CancellationToken.None));
        // Alternating, so a change of the machine's load hits both sides alike.
        var full = new List<double>();
        var raw = new List<double>();
        for (var r = 0; r < repeat; r++)
        {
            full.Add(await TimeAsync(() => proxier.SyncAsync(feed.Next(), true, CancellationToken.None)));
            var same = proxier.LastRestore!;
            raw.Add(await TimeAsync(() => RawRestoreAsync(restore, same)));
        }
        var text = proxier.LastRestore!;
        var rules = text.Split('\n').Count(l => l.StartsWith("-A ", StringComparison.Ordinal));
        Console.WriteLine(FormattableString.Invariant(
            $"size {size} services x {perService} endpoints: rules={rules} initial_ms={initial:F0} full_p50_ms={Median(full):F0} ({string.Join(", ", full.Select(f => f.ToString("F0", CultureInfo.InvariantCulture)))}) raw_restore_p50_ms={Median(raw):F0} ({string.Join(", ", raw.Select(f => f.ToString("F0", CultureInfo.InvariantCulture)))})"));
        if (size == largest)
        {
            ratio = Median(full) / Median(raw);
            var one = new List<double>();
            var oneRaw = new List<double>();
            var changes = int.Parse(One(arg, "--changes", "10"), CultureInfo.InvariantCulture);
            for (var r = 0; r < changes; r++)
            {
                feed.Change(size / 2, r);
                one.Add(await TimeAsync(() => proxier.SyncAsync(feed.Next(), false, CancellationToken.None)));
                // The same partial text again through a plain iptables-restore: the floor of any one-change sync.
                var partial = proxier.LastRestore!;
                oneRaw.Add(await TimeAsync(() => RawRestoreAsync(restore, partial)));
            }
            Console.WriteLine(FormattableString.Invariant(
                $"one changed service at {size}: p50_ms={Median(one):F1} max_ms={one.Max():F1} ({string.Join(", ", one.Select(f => f.ToString("F1", CultureInfo.InvariantCulture)))}); raw restore of the same text p50_ms={Median(oneRaw):F1}"));
        }
        await IptablesCleanup.CleanupAsync(iptables, CancellationToken.None);
    }
    Console.WriteLine(FormattableString.Invariant($"ratio: {ratio:F2}"));
    return 0;
}

static async Task RawRestoreAsync(string program, string text)
{
    var psi = new ProcessStartInfo(program) { RedirectStandardInput = true, RedirectStandardError = true };
    psi.ArgumentList.Add("--noflush");
    psi.ArgumentList.Add("-w");
    psi.ArgumentList.Add("5");
    using var p = Process.Start(psi)!;
    var stderr = p.StandardError.ReadToEndAsync();
    await p.StandardInput.WriteAsync(text);
    p.StandardInput.Close();
    await p.WaitForExitAsync();
    if (p.ExitCode != 0)
    {
        throw new IOException($"iptables-restore exited {p.ExitCode}: {await stderr}");
    }
}

static async Task<int> ProgramAsync(Dictionary<string, List<string>> arg)
{
    var mode = One(arg, "--mode", "userspace");
    var feed = new Feed(1);
    var services = arg.GetValueOrDefault("--service") ?? throw new ArgumentException("--service CLUSTERIP:PORT=ENDPOINTIP:PORT is required");
    for (var i = 0; i < services.Count; i++)
    {
        var (front, back) = (services[i].Split('=')[0], services[i].Split('=')[1]);
        feed.AddOne(i, IPEndPoint.Parse(front), IPEndPoint.Parse(back));
    }
    var iptables = await ProxyHost.IptablesAsync(null, IptablesBackendDetector.Parse(One(arg, "--backend", "auto")), NullLogger.Instance, CancellationToken.None);
    await using var userspace = mode == "userspace"
        ? new UserspaceProxier(iptables, new UserspaceSettings
        {
            HostAddress = arg.ContainsKey("--host-address") ? IPAddress.Parse(One(arg, "--host-address", "")) : null,
        }, NullLogger.Instance)
        : null;
    IProxyBackend proxier = (IProxyBackend?)userspace ?? new IptablesProxier(iptables, new IptablesSettings(), NullLogger.Instance);
    await proxier.SyncAsync(feed.Next(), true, CancellationToken.None);
    Console.WriteLine("ready");
    await Console.In.ReadToEndAsync();
    await IptablesCleanup.CleanupAsync(iptables, CancellationToken.None);
    return 0;
}

static async Task<int> HelloAsync(Dictionary<string, List<string>> arg)
{
    using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    listener.Bind(IPEndPoint.Parse(One(arg, "--listen", "0.0.0.0:9000")));
    listener.Listen(1024);
    Console.WriteLine("listening");
    byte[] hello = [(byte)'h'];
    while (true)
    {
        var client = await listener.AcceptAsync();
        _ = Task.Run(async () =>
        {
            using (client)
            {
                try
                {
                    await client.SendAsync(hello);
                    client.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException)
                {
                    // The client left first.
                }
            }
        });
    }
}

static async Task<int> LatencyAsync(Dictionary<string, List<string>> arg)
{
    var target = IPEndPoint.Parse(One(arg, "--target", ""));
    var count = int.Parse(One(arg, "--count", "2000"), CultureInfo.InvariantCulture);
    var times = new List<double>(count);
    var buffer = new byte[16];
    for (var i = 0; i < count + 50; i++)
    {
        var started = Stopwatch.GetTimestamp();
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await s.ConnectAsync(target);
            if (await s.ReceiveAsync(buffer) != 1)
            {
                throw new IOException($"{target}: no first byte");
            }
        }
        if (i >= 50)
        {
            // The first 50 warm up the JIT-free paths and the ARP caches.
            times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
    }
    times.Sort();
    Console.WriteLine(FormattableString.Invariant($"latency n={count} p50_ms={times[count / 2]:F3} p99_ms={times[(int)Math.Ceiling(count * 0.99) - 1]:F3}"));
    return 0;
}

static async Task<double> TimeAsync(Func<Task> action)
{
    var started = Stopwatch.GetTimestamp();
    await action();
    return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string One(Dictionary<string, List<string>> arg, string name, string fallback) =>
    arg.TryGetValue(name, out var v) ? v[^1] : fallback;

static Dictionary<string, List<string>> ParseArgs(string[] args)
{
    var result = new Dictionary<string, List<string>>();
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        if (!result.TryGetValue(args[i], out var list))
        {
            result[args[i]] = list = [];
        }
        list.Add(args[i + 1]);
    }
    return result;
}

/// <summary>Services and EndpointSlices as the informers would hand them, through the real change trackers.</summary>
internal sealed class Feed(int perService)
{
    private readonly ServiceChangeTracker _services = new(NullLogger.Instance);
    private readonly EndpointsChangeTracker _endpoints = new("bench", NullLogger.Instance);
    private readonly Dictionary<ServicePortName, ServicePort> _serviceMap = [];
    private readonly Dictionary<ServicePortName, IReadOnlyList<Endpoint>> _endpointMap = [];

    /// <summary>Service i: cluster IP 10.96.x.y:80, perService endpoints 10.128.x.y:8080, all ready.</summary>
    public void Add(int i)
    {
        var clusterIP = new IPAddress([10, 96, (byte)(i / 250), (byte)(i % 250 + 1)]);
        _services.Update(null, Service(i, clusterIP, 80));
        _endpoints.Update(Slice(i, Enumerable.Range(0, perService).Select(j => Address(i * perService + j)).ToList(), 8080, readyFlip: -1), removed: false);
    }

    public void AddOne(int i, IPEndPoint front, IPEndPoint back)
    {
        _services.Update(null, Service(i, front.Address, front.Port));
        _endpoints.Update(Slice(i, [back.Address.ToString()], back.Port, readyFlip: -1), removed: false);
    }

    /// <summary>Service i's endpoints change: in round r, endpoint r % perService is not ready.</summary>
    public void Change(int i, int r) =>
        _endpoints.Update(Slice(i, Enumerable.Range(0, perService).Select(j => Address(i * perService + j)).ToList(), 8080, readyFlip: r % perService), removed: false);

    public ProxyState Next()
    {
        var changed = _services.Apply(_serviceMap);
        var eps = _endpoints.Apply(_endpointMap);
        changed.UnionWith(eps.Changed);
        return new ProxyState(new Dictionary<ServicePortName, ServicePort>(_serviceMap),
            new Dictionary<ServicePortName, IReadOnlyList<Endpoint>>(_endpointMap), changed, eps.Removed);
    }

    private static string Address(int k) => $"10.{128 + k / 65536}.{k / 256 % 256}.{k % 256}";

    private static V1Service Service(int i, IPAddress clusterIP, int port) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { NamespaceProperty = "bench", Name = $"svc-{i}" },
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            ClusterIP = clusterIP.ToString(),
            Ports = [new V1ServicePort { Name = "http", Port = port, Protocol = "TCP" }],
        },
    };

    private static V1EndpointSlice Slice(int i, List<string> addresses, int port, int readyFlip) => new()
    {
        ApiVersion = "discovery.k8s.io/v1",
        Kind = "EndpointSlice",
        Metadata = new V1ObjectMeta
        {
            NamespaceProperty = "bench",
            Name = $"svc-{i}-a",
            Labels = new Dictionary<string, string> { [EndpointSliceParser.ServiceNameLabel] = $"svc-{i}" },
        },
        AddressType = "IPv4",
        Ports = [new Discoveryv1EndpointPort { Name = "http", Port = port, Protocol = "TCP" }],
        Endpoints = addresses.Select((a, j) => new V1Endpoint
        {
            Addresses = [a],
            Conditions = new V1EndpointConditions { Ready = j != readyFlip },
        }).ToList(),
    };
}
