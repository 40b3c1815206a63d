namespace NodeAgent.Logs;

/// <summary>A physical line that is not in the CRI log format, with where it was found.</summary>
/// <param name="LineNumber">1-based line number within <paramref name="File"/>.</param>
public sealed record CriLogMalformedLine(string File, long LineNumber, string Text, string Reason)
{
    public override string ToString() => $"{File}:{LineNumber}: {Reason}: \"{Text}\"";
}
