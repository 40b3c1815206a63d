using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NodeAgent.Linux;
using NodeAgent.Network.Netlink;

namespace NodeAgent.Tests.Network;

/// <summary>
/// A stand-in node: a network namespace the test creates (the bridge, iptables rules and veths live there), and an
/// "outside" namespace joined to it by a veth (node 192.168.77.1/24, outside 192.168.77.2/24). The outside has no
/// route to the pod CIDR, so pods reach it only through masquerade. Dispose ends every process started here and
/// unpins both namespaces, which takes their links and rules with them.
/// </summary>
public sealed class NodeNetns : IDisposable
{
    public const string NodeAddress = "192.168.77.1", OutsideAddress = "192.168.77.2";

    private readonly List<Process> _processes = [];

    public NodeNetns(string dir)
    {
        NodePath = Path.Combine(dir, "node.netns");
        OutsidePath = Path.Combine(dir, "outside.netns");
        NetworkNamespace.CreatePinned(NodePath);
        NetworkNamespace.CreatePinned(OutsidePath);
        using (var outside = File.OpenHandle(OutsidePath, FileMode.Open, FileAccess.Read))
        {
            RtNetlink.Run(NodePath, node =>
            {
                node.CreateVeth("uplink0", null, "eth0", outside, 1500);
                var index = node.LinkIndex("uplink0")!.Value;
                node.SetUp(index, "uplink0");
                return node.AddAddress(index, "uplink0", IPAddress.Parse(NodeAddress), 24);
            });
        }

        RtNetlink.Run(OutsidePath, o =>
        {
            var index = o.LinkIndex("eth0")!.Value;
            o.SetUp(index, "eth0");
            return o.AddAddress(index, "eth0", IPAddress.Parse(OutsideAddress), 24);
        });
    }

    public string NodePath { get; }

    public string OutsidePath { get; }

    /// <summary>Starts busybox httpd serving <paramref name="content"/> inside a namespace and waits until it accepts.</summary>
    public async Task ServeAsync(string netns, string address, int port, string content, string dir)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "index.html"), content);
        Start("nsenter", $"--net={netns}", "--", "busybox", "httpd", "-f", "-p", $"{address}:{port}", "-h", dir);
        await WaitAcceptingAsync(netns, address, port);
    }

    /// <summary>GET http://address:port/ from inside a namespace (busybox nc); returns the body's last line.</summary>
    public static async Task<string> FetchAsync(string netns, string address, int port)
    {
        var psi = new ProcessStartInfo("nsenter") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--net={netns}", "--", "busybox", "nc", "-w", "5", address, port.ToString() })
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        await p.StandardInput.WriteAsync("GET / HTTP/1.0\r\n\r\n");
        var output = await p.StandardOutput.ReadToEndAsync();
        var error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return p.ExitCode == 0 && output.Length > 0 ? output.TrimEnd('\n').Split('\n')[^1] : $"nc failed ({p.ExitCode}): {error}";
    }

    /// <summary>Output of a command run inside a namespace (e.g. <c>iptables-save</c>, <c>ip -o link</c>).</summary>
    public static string Exec(string netns, params string[] command) =>
        Support.RepoPaths.Run("nsenter", [$"--net={netns}", "--", .. command]);

    /// <summary>Waits until a TCP connect from inside <paramref name="netns"/> succeeds (the server is listening).</summary>
    public static async Task WaitAcceptingAsync(string netns, string address, int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            // A socket made inside the namespace connects there whichever thread uses it.
            using var probe = NetworkNamespace.Run(netns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            try
            {
                await probe.ConnectAsync(IPAddress.Parse(address), port).WaitAsync(TimeSpan.FromSeconds(5));
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                // Refused: not listening yet. Retry (with a short backoff) until the deadline.
                await Task.Delay(20);
            }
        }
    }

    private void Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        _processes.Add(Process.Start(psi)!);
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
                // Already exited.
            }

            p.Dispose();
        }

        NetworkNamespace.RemovePinned(NodePath);
        NetworkNamespace.RemovePinned(OutsidePath);
    }
}
