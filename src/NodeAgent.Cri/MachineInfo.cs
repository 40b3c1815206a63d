namespace NodeAgent.Cri;

/// <summary>The machine as cAdvisor describes it: logical CPUs, installed memory and its identifiers.</summary>
public sealed record MachineInfo(int CpuCores, ulong MemoryBytes, string BootId, string MachineId, string SystemUuid);
