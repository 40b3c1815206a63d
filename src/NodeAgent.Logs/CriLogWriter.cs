using System.Text;

namespace NodeAgent.Logs;

/// <summary>Placeholder CRI log writer (full lines only, no rotation); replaced by the complete implementation.</summary>
public sealed class CriLogWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly List<byte>[] _partial = [[], []];

    public CriLogWriter(string path, long maxSizeBytes, int maxFiles)
    {
        _ = maxSizeBytes;
        _ = maxFiles;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
    }

    public void Write(CriStream stream, ReadOnlySpan<byte> chunk)
    {
        var buf = _partial[(int)stream];
        foreach (var b in chunk)
        {
            if (b == (byte)'\n')
            {
                Emit(stream, buf);
                buf.Clear();
            }
            else
            {
                buf.Add(b);
            }
        }
    }

    private void Emit(CriStream stream, List<byte> line)
    {
        var prefix = Encoding.UTF8.GetBytes($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffffff00Z} {(stream == CriStream.Stdout ? "stdout" : "stderr")} F ");
        _file.Write(prefix);
        _file.Write(line.ToArray());
        _file.WriteByte((byte)'\n');
        _file.Flush();
    }

    public void Dispose()
    {
        for (var i = 0; i < 2; i++)
        {
            if (_partial[i].Count > 0)
            {
                Emit((CriStream)i, _partial[i]);
            }
        }

        _file.Dispose();
    }
}
