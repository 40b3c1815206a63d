namespace NodeAgent.Logs;

/// <summary>One logical log line: its P chunks and final F chunk joined, stamped with the first chunk's time.</summary>
/// <param name="Complete">False when the line ended without an F chunk (the log ended mid-line).</param>
public readonly record struct CriLogEntry(DateTimeOffset Timestamp, CriStream Stream, string Content, bool Complete = true);
