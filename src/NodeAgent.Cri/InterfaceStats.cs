namespace NodeAgent.Cri;

/// <summary>Counters of one network interface.</summary>
public sealed record InterfaceStats(
    string Name,
    ulong RxBytes,
    ulong RxPackets,
    ulong RxErrors,
    ulong RxDropped,
    ulong TxBytes,
    ulong TxPackets,
    ulong TxErrors,
    ulong TxDropped);
