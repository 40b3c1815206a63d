namespace NodeAgent.Proxy;

/// <summary>
/// A proxy mode (iptables, userspace): programs the node from a <see cref="ProxyState"/>. A full sync rewrites
/// everything; a partial one may rewrite only <see cref="ProxyState.Changed"/> services. Throws when the node refused
/// the change; the node then keeps the previous rules and the next sync is full.
/// </summary>
public interface IProxyBackend
{
    Task SyncAsync(ProxyState state, bool full, CancellationToken cancellationToken);
}
