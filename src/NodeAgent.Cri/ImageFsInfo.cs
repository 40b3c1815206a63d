namespace NodeAgent.Cri;

/// <summary>The image filesystem: where images live and how full it is.</summary>
public sealed record ImageFsInfo(string Mountpoint, long CapacityBytes, long AvailableBytes, long UsedByImagesBytes);
