using System.Net;
using NodeAgent.Linux;

namespace NodeAgent.Network.Ipam;

/// <summary>
/// Host-local IPv4 allocation from the pod CIDR. Each allocation is a file named by the address holding the
/// sandbox ID, under <c>&lt;state&gt;/ipam/&lt;cidr&gt;/</c>; creating it with O_EXCL is the claim, so allocations
/// survive restarts and two processes never hand out one address. Allocation continues after the last address
/// given, as CNI host-local does, so a freed address is not reused at once.
/// </summary>
public sealed class IpAllocator
{
    private readonly Ipv4Cidr _cidr;
    private readonly string _dir;
    private readonly string _lastPath;

    public IpAllocator(Ipv4Cidr cidr, string stateDir)
    {
        _cidr = cidr;
        _dir = Path.Combine(stateDir, "ipam", cidr.ToString().Replace('/', '_'));
        _lastPath = Path.Combine(_dir, "last-reserved");
        Directory.CreateDirectory(_dir);
    }

    public Ipv4Cidr Cidr => _cidr;

    /// <summary>The address of <paramref name="owner"/> (the one it has, or a new one).</summary>
    public IPAddress Allocate(string owner)
    {
        using var _ = FileLock.Acquire(Path.Combine(_dir, "lock"));
        if (Find(owner) is { } existing)
        {
            return existing;
        }

        var start = ReadLast() is { } last && last >= _cidr.FirstHost && last < _cidr.LastHost ? last + 1 : _cidr.FirstHost;
        for (var i = 0; i < _cidr.Size; i++)
        {
            var candidate = _cidr.FirstHost + (uint)((start - _cidr.FirstHost + (uint)i) % (uint)_cidr.Size);
            var path = Path.Combine(_dir, Ipv4Cidr.ToAddress(candidate).ToString());
            try
            {
                using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                {
                    f.Write(System.Text.Encoding.UTF8.GetBytes(owner));
                }

                File.WriteAllText(_lastPath, Ipv4Cidr.ToAddress(candidate).ToString());
                return Ipv4Cidr.ToAddress(candidate);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Taken; try the next one.
            }
        }

        throw new IpPoolExhaustedException(
            $"pod CIDR {_cidr} is exhausted: all {_cidr.Size} pod addresses are allocated (see {_dir})");
    }

    /// <summary>Releases every address held by <paramref name="owner"/>. Idempotent.</summary>
    public void Release(string owner)
    {
        using var _ = FileLock.Acquire(Path.Combine(_dir, "lock"));
        foreach (var (ip, holder) in Allocations())
        {
            if (holder == owner)
            {
                File.Delete(Path.Combine(_dir, ip.ToString()));
            }
        }
    }

    /// <summary>Releases addresses whose owner is not live any more; returns the owners reclaimed.</summary>
    public IReadOnlyList<string> Reclaim(Func<string, bool> isLive)
    {
        using var _ = FileLock.Acquire(Path.Combine(_dir, "lock"));
        var reclaimed = new List<string>();
        foreach (var (ip, holder) in Allocations())
        {
            if (!isLive(holder))
            {
                File.Delete(Path.Combine(_dir, ip.ToString()));
                reclaimed.Add(holder);
            }
        }

        return reclaimed;
    }

    public IReadOnlyList<(IPAddress Address, string Owner)> Allocations()
    {
        var result = new List<(IPAddress, string)>();
        foreach (var file in Directory.EnumerateFiles(_dir))
        {
            if (IPAddress.TryParse(Path.GetFileName(file), out var ip))
            {
                result.Add((ip, File.ReadAllText(file).Trim()));
            }
        }

        return result;
    }

    private IPAddress? Find(string owner) =>
        Allocations().Where(a => a.Owner == owner).Select(a => a.Address).FirstOrDefault();

    private uint? ReadLast() =>
        File.Exists(_lastPath) && IPAddress.TryParse(File.ReadAllText(_lastPath).Trim(), out var ip) ? Ipv4Cidr.ToUInt32(ip) : null;
}
