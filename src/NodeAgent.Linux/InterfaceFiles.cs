using System.Buffers.Text;
using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// Reads small kernel interface files (cgroupfs, /proc, /sys) into one reusable buffer and parses them without
/// allocating. A missing file (or a cgroup removed while it was open: ENODEV) is reported as absent, never thrown.
/// Not thread-safe: the returned span is valid until the next read.
/// </summary>
public sealed class InterfaceFiles
{
    private byte[] _buffer = new byte[16 * 1024];

    /// <summary>
    /// The file's content, or false when it does not exist (any more) or cannot be read (ENODEV: its cgroup went away
    /// while it was open). open, read, close: kernel interface files hand over their whole content in one read once
    /// the buffer is large enough, so a short read ends it.
    /// </summary>
    public unsafe bool TryRead(string path, out ReadOnlySpan<byte> content)
    {
        content = default;
        int fd;
        do
        {
            fd = Libc.Open(path, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == ErrnoNames.EINTR);

        if (fd < 0)
        {
            return false;
        }

        try
        {
            int total = 0;
            while (true)
            {
                if (total == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                long n;
                fixed (byte* b = _buffer)
                {
                    n = LibC.read(fd, b + total, _buffer.Length - total);
                }

                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == ErrnoNames.EINTR)
                    {
                        continue;
                    }

                    return false;
                }

                total += (int)n;
                if (n == 0 || total < _buffer.Length)
                {
                    break;
                }
            }

            content = _buffer.AsSpan(0, total);
            return true;
        }
        finally
        {
            LibC.close(fd);
        }
    }

    /// <summary>The file's single number ("max" reads as <see cref="ulong.MaxValue"/>), or null when absent or unparsable.</summary>
    public ulong? ReadNumber(string path) => TryRead(path, out var text) ? Number(text) : null;

    public static ulong? Number(ReadOnlySpan<byte> text)
    {
        text = text.Trim((byte)'\n').Trim((byte)' ');
        if (text.SequenceEqual("max"u8))
        {
            return ulong.MaxValue;
        }

        return Utf8Parser.TryParse(text, out ulong v, out int used) && used == text.Length ? v : null;
    }

    /// <summary>The value of <paramref name="key"/> in a flat-keyed file ("key value" lines); 0 when absent.</summary>
    public static ulong Keyed(ReadOnlySpan<byte> text, ReadOnlySpan<byte> key)
    {
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            var line = nl < 0 ? text : text[..nl];
            text = nl < 0 ? default : text[(nl + 1)..];
            if (line.Length > key.Length && line[key.Length] == (byte)' ' && line.StartsWith(key)
                && Utf8Parser.TryParse(line[(key.Length + 1)..], out ulong v, out _))
            {
                return v;
            }
        }

        return 0;
    }

    /// <summary>Non-empty lines (cgroup.procs: one PID per line).</summary>
    public static ulong Lines(ReadOnlySpan<byte> text)
    {
        ulong count = 0;
        while (!text.IsEmpty)
        {
            int nl = text.IndexOf((byte)'\n');
            if ((nl < 0 ? text.Length : nl) > 0)
            {
                count++;
            }

            text = nl < 0 ? default : text[(nl + 1)..];
        }

        return count;
    }

    /// <summary>Splits "MAJOR:MINOR" off the start of a line; false for a malformed one.</summary>
    public static bool TryDevice(ReadOnlySpan<byte> line, out uint major, out uint minor, out int consumed)
    {
        minor = 0;
        consumed = 0;
        if (!Utf8Parser.TryParse(line, out major, out int a) || a >= line.Length || line[a] != (byte)':'
            || !Utf8Parser.TryParse(line[(a + 1)..], out minor, out int b))
        {
            return false;
        }

        consumed = a + 1 + b;
        return true;
    }
}
