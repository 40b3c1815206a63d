using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Proxy;

/// <summary>A network namespace for the proxy's rules, made by the test in a scratch directory and removed (with
/// every rule in it) on dispose, with the iptables runner pointed at it.</summary>
public sealed class ProxyNetns : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-proxy-netns");

    public ProxyNetns(IptablesBackend backend = IptablesBackend.Nft)
    {
        Path = _dir.Combine("node.netns");
        NetworkNamespace.CreatePinned(Path);
        Iptables = new NodeAgent.Linux.Iptables(new NodeCommand(Path), backend);
    }

    public string Path { get; }

    public NodeAgent.Linux.Iptables Iptables { get; }

    public string Combine(string name) => _dir.Combine(name);

    /// <summary>iptables-save inside the namespace.</summary>
    public Task<string> SaveAsync() => Iptables.SaveAsync(null, CancellationToken.None);

    /// <summary>iptables-save without its comment lines and chain counters, which change by themselves.</summary>
    public async Task<string> StableSaveAsync() =>
        string.Join('\n', (await SaveAsync()).Split('\n').Where(l => !l.StartsWith('#')).Select(l => l.StartsWith(':') ? l[..l.IndexOf(' ')] : l));

    public void Dispose()
    {
        NetworkNamespace.RemovePinned(Path);
        _dir.Dispose();
    }
}
