using System.Buffers;
using System.Text;

namespace NodeAgent.Logs;

/// <summary>Joins P chunks with their F chunk, per stream, into logical lines.</summary>
internal sealed class LineAssembler
{
    private readonly ArrayBufferWriter<byte>[] _pending = [new(), new()];
    private readonly DateTimeOffset?[] _firstStamp = new DateTimeOffset?[2];
    private readonly Action<CriLogMalformedLine>? _onMalformed;

    public LineAssembler(Action<CriLogMalformedLine>? onMalformed) => _onMalformed = onMalformed;

    public long MalformedCount { get; private set; }

    public void Add(LogFileCursor cursor, ReadOnlySpan<byte> line, List<CriLogEntry> output)
    {
        if (!CriLogRecord.TryParse(line, out DateTimeOffset ts, out CriStream stream, out bool partial, out ReadOnlySpan<byte> content, out string? error))
        {
            MalformedCount++;
            _onMalformed?.Invoke(new CriLogMalformedLine(cursor.Path, cursor.LineNumber, Encoding.UTF8.GetString(line), error!));
            return;
        }

        int s = (int)stream;
        _firstStamp[s] ??= ts;
        _pending[s].Write(content);
        if (!partial)
        {
            output.Add(Take(s, complete: true));
        }
    }

    /// <summary>Emits lines whose F chunk never came.</summary>
    public void FlushIncomplete(List<CriLogEntry> output)
    {
        for (int s = 0; s < 2; s++)
        {
            if (_firstStamp[s] is not null)
            {
                output.Add(Take(s, complete: false));
            }
        }
    }

    private CriLogEntry Take(int s, bool complete)
    {
        var entry = new CriLogEntry(_firstStamp[s]!.Value, (CriStream)s, Encoding.UTF8.GetString(_pending[s].WrittenSpan), complete);
        _pending[s].ResetWrittenCount();
        _firstStamp[s] = null;
        return entry;
    }
}
