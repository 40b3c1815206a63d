namespace NodeAgent.Images;

/// <summary>What one image GC pass did: the image filesystem's usage before, the images removed and their size.</summary>
public sealed record ImageGcResult(int UsagePercent, long BytesToFree, IReadOnlyList<ImageRecord> Removed, long BytesFreed);
