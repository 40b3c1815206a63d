using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// The host's network facts from the BCL (interfaces, name resolution) and the kernel's route tables as
/// <c>/proc/net/route</c> and <c>/proc/net/ipv6_route</c> show them (the files kubelet's ChooseHostInterface reads).
/// </summary>
public sealed class HostNetworkInfo(string procNet = "/proc/net") : IHostNetworkInfo
{
    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(5);

    public IReadOnlyList<(string Interface, IPAddress Address)> InterfaceAddresses() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses.Select(a => (n.Name, a.Address)))
            .ToList();

    public IReadOnlyList<string> DefaultRouteInterfaces(AddressFamily family)
    {
        var file = Path.Combine(procNet, family == AddressFamily.InterNetwork ? "route" : "ipv6_route");
        string text;
        try
        {
            text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        return family == AddressFamily.InterNetwork ? ParseIpv4Defaults(text) : ParseIpv6Defaults(text);
    }

    public async Task<IReadOnlyList<IPAddress>> LookupAsync(string hostName, CancellationToken cancellationToken)
    {
        // Bounded: an unreachable DNS server must not hold the agent's start for the resolver's full retry time
        // (the lookup itself may not honour cancellation once under way, hence WaitAsync as well).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LookupTimeout);
        try
        {
            return await Dns.GetHostAddressesAsync(hostName, timeout.Token).WaitAsync(LookupTimeout, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or ArgumentException or TimeoutException
            || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return [];
        }
    }

    /// <summary>
    /// Default routes of <c>/proc/net/route</c>: <c>Iface Destination Gateway Flags …  Mask …</c> with destination
    /// and mask 0 (hex, host byte order), route up (flag 0x1).
    /// </summary>
    public static IReadOnlyList<string> ParseIpv4Defaults(string text)
    {
        var result = new List<string>();
        foreach (var line in text.Split('\n').Skip(1))
        {
            var f = line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 8 && f[1] == "00000000" && f[7] == "00000000"
                && int.TryParse(f[3], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags) && (flags & 1) != 0)
            {
                result.Add(f[0]);
            }
        }

        return result;
    }

    /// <summary>
    /// Default routes of <c>/proc/net/ipv6_route</c>: destination <c>::/0</c> (32 zeros, prefix 00), route up,
    /// on an interface other than <c>lo</c> (the kernel lists unreachable defaults on <c>lo</c>).
    /// </summary>
    public static IReadOnlyList<string> ParseIpv6Defaults(string text)
    {
        var result = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length >= 10 && f[0] == new string('0', 32) && f[1] == "00" && f[9] != "lo"
                && int.TryParse(f[8], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var flags) && (flags & 1) != 0)
            {
                result.Add(f[9]);
            }
        }

        return result;
    }
}
