using System.Buffers;

namespace NodeAgent.Runtime.Exec;

/// <summary>Reads a stream to its end, keeping at most <c>cap</c> bytes and dropping the rest (the writer never blocks on a full pipe).</summary>
internal sealed class CappedOutput(int cap)
{
    private readonly MemoryStream _kept = new();
    private readonly object _gate = new();
    private bool _truncated;

    public bool Truncated
    {
        get
        {
            lock (_gate)
            {
                return _truncated;
            }
        }
    }

    /// <summary>What was kept so far (the pump may still run when processes left behind hold the stream open).</summary>
    public byte[] ToArray()
    {
        lock (_gate)
        {
            return _kept.ToArray();
        }
    }

    public async Task FillAsync(Stream source)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer)) > 0)
            {
                lock (_gate)
                {
                    var room = (int)Math.Min(n, cap - _kept.Length);
                    if (room > 0)
                    {
                        _kept.Write(buffer, 0, room);
                    }

                    _truncated |= room < n;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The pipe or pty went away (EIO on a pty whose last peer closed): the output ends here.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
