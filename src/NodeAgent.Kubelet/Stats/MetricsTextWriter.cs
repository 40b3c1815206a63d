using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace NodeAgent.Kubelet.Stats;

/// <summary>
/// Writes the Prometheus text format (0.0.4) as UTF-8 into a pooled buffer that is flushed to the response stream in
/// chunks: no document-sized string or array is ever built. Label values are escaped as the format requires.
/// </summary>
internal sealed class MetricsTextWriter(Stream stream) : IDisposable
{
    private const int FlushAt = 48 * 1024;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _length;

    /// <summary>Flushes once the buffer holds a chunk's worth; call between samples.</summary>
    public ValueTask FlushIfFullAsync(CancellationToken cancellationToken) =>
        _length >= FlushAt ? FlushAsync(cancellationToken) : ValueTask.CompletedTask;

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_length > 0)
        {
            await stream.WriteAsync(_buffer.AsMemory(0, _length), cancellationToken).ConfigureAwait(false);
            _length = 0;
        }
    }

    /// <summary><c># HELP name help</c> and <c># TYPE name type</c>.</summary>
    public void Family(ReadOnlySpan<byte> name, ReadOnlySpan<byte> help, ReadOnlySpan<byte> type)
    {
        Raw("# HELP "u8);
        Raw(name);
        Raw(" "u8);
        Raw(help);
        Raw("\n# TYPE "u8);
        Raw(name);
        Raw(" "u8);
        Raw(type);
        Raw("\n"u8);
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary><c>name="value"</c> with the value escaped (backslash, double quote, newline).</summary>
    public void Label(ReadOnlySpan<byte> name, string value)
    {
        Raw(name);
        Raw("=\""u8);
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
        {
            Ensure(Encoding.UTF8.GetMaxByteCount(value.Length));
            _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
        }
        else
        {
            Raw(Escape(value));
        }

        Raw("\""u8);
    }

    /// <summary>A label pair already encoded and escaped, for reuse across samples.</summary>
    public static byte[] Encode(string name, string value) => Encoding.UTF8.GetBytes(name + "=\"" + Encoding.UTF8.GetString(Escape(value)) + "\"");

    public void Value(double value)
    {
        Raw(" "u8);
        if (double.IsPositiveInfinity(value))
        {
            Raw("+Inf"u8);
        }
        else if (double.IsNegativeInfinity(value))
        {
            Raw("-Inf"u8);
        }
        else if (double.IsNaN(value))
        {
            Raw("NaN"u8);
        }
        else
        {
            Ensure(32);
            value.TryFormat(_buffer.AsSpan(_length), out int n, "R", CultureInfo.InvariantCulture);
            _length += n;
        }
    }

    public void Value(ulong value)
    {
        Raw(" "u8);
        Ensure(24);
        Utf8Formatter.TryFormat(value, _buffer.AsSpan(_length), out int n);
        _length += n;
    }

    /// <summary>Ends a sample: the timestamp in milliseconds (omitted when null) and the newline.</summary>
    public void End(long? timestampMs)
    {
        if (timestampMs is { } ts)
        {
            Raw(" "u8);
            Ensure(24);
            Utf8Formatter.TryFormat(ts, _buffer.AsSpan(_length), out int n);
            _length += n;
        }

        Raw("\n"u8);
    }

    private static byte[] Escape(string value)
    {
        if (value.AsSpan().IndexOfAny('\\', '"', '\n') < 0)
        {
            return Encoding.UTF8.GetBytes(value);
        }

        var sb = new StringBuilder(value.Length + 8);
        foreach (char c in value)
        {
            sb.Append(c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ => c.ToString() });
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
            _buffer.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
