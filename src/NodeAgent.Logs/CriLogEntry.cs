namespace NodeAgent.Logs;

/// <summary>One record of a CRI log: time, stream, whether the line continues in the next record, content without newline.</summary>
public sealed record CriLogEntry(DateTimeOffset Timestamp, CriStream Stream, bool Partial, ReadOnlyMemory<byte> Content);
