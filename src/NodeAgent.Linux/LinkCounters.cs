namespace NodeAgent.Linux;

/// <summary>One network interface's counters (the kernel's rtnl_link_stats64).</summary>
public readonly record struct LinkCounters(
    string Name,
    ulong RxBytes,
    ulong RxPackets,
    ulong RxErrors,
    ulong RxDropped,
    ulong TxBytes,
    ulong TxPackets,
    ulong TxErrors,
    ulong TxDropped);
