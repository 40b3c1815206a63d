using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>Pseudo-terminals and terminal settings: a pty pair for an exec with a tty, window sizes, raw mode.</summary>
public static unsafe class Terminal
{
    private const nuint TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCSCTTY = 0x540E, TIOCSPTLCK = 0x40045431, TIOCGPTPEER = 0x5441;
    private const int TermiosSize = 64; // glibc's struct termios is 60 bytes on x86_64
    private const int TCSANOW = 0;

    /// <summary>
    /// A new pty pair from the multiplexer at <paramref name="ptmx"/> (<c>/dev/ptmx</c>, or a devpts instance's own
    /// <c>pts/ptmx</c>), both ends close-on-exec. The path is opened without following a final symlink and must be a
    /// devpts instance's ptmx node (character device 5:2 on a devpts filesystem); the peer (slave) is opened through
    /// the master (TIOCGPTPEER), never by a path.
    /// </summary>
    public static (SafeFileHandle Master, SafeFileHandle Peer) OpenPty(string ptmx)
    {
        var flags = Tmds.Linux.LibC.O_RDWR | Tmds.Linux.LibC.O_NOCTTY | Tmds.Linux.LibC.O_CLOEXEC;
        var master = new SafeFileHandle(LinuxException.ThrowIfError(Libc.Open(ptmx, flags | Tmds.Linux.LibC.O_NOFOLLOW, 0), "open", ptmx), ownsHandle: true);
        try
        {
            var fd = (int)master.DangerousGetHandle();
            CheckIsPtmx(fd, ptmx);
            var unlock = 0;
            LinuxException.ThrowIfError(Libc.Ioctl(fd, TIOCSPTLCK, &unlock), "ioctl TIOCSPTLCK", ptmx);
            var peer = LinuxException.ThrowIfError(Libc.Ioctl(fd, TIOCGPTPEER, (void*)(nint)flags), "ioctl TIOCGPTPEER", ptmx);
            return (master, new SafeFileHandle(peer, ownsHandle: true));
        }
        catch
        {
            master.Dispose();
            throw;
        }
    }

    private static void CheckIsPtmx(int fd, string path)
    {
        const uint S_IFMT = 0xF000, S_IFCHR = 0x2000;
        const long DEVPTS_SUPER_MAGIC = 0x1cd1;
        Tmds.Linux.stat st;
        LinuxException.ThrowIfError(Tmds.Linux.LibC.fstat(fd, &st), "fstat", path);
        var rdev = (ulong)st.st_rdev;
        var major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffUL);
        var minor = (rdev & 0xff) | ((rdev >> 12) & ~0xffUL);
        var fs = stackalloc byte[128];
        LinuxException.ThrowIfError(Libc.Fstatfs(fd, fs), "fstatfs", path);
        if (((uint)st.st_mode & S_IFMT) != S_IFCHR || major != 5 || minor != 2 || *(long*)fs != DEVPTS_SUPER_MAGIC)
        {
            throw new IOException($"{path} is not the ptmx node of a devpts filesystem");
        }
    }

    /// <summary>Sets a terminal's window size (TIOCSWINSZ); the foreground process group gets SIGWINCH.</summary>
    public static void SetWindowSize(SafeFileHandle terminal, ushort columns, ushort rows)
    {
        var size = stackalloc ushort[4];
        size[0] = rows;
        size[1] = columns;
        size[2] = 0;
        size[3] = 0;
        var added = false;
        terminal.DangerousAddRef(ref added);
        try
        {
            LinuxException.ThrowIfError(Libc.Ioctl((int)terminal.DangerousGetHandle(), TIOCSWINSZ, size), "ioctl TIOCSWINSZ");
        }
        finally
        {
            if (added)
            {
                terminal.DangerousRelease();
            }
        }
    }

    /// <summary>The window size of the terminal on <paramref name="fd"/>; false when it is not a terminal.</summary>
    public static bool TryGetWindowSize(int fd, out ushort columns, out ushort rows)
    {
        var size = stackalloc ushort[4];
        columns = rows = 0;
        if (Libc.Ioctl(fd, TIOCGWINSZ, size) < 0)
        {
            return false;
        }

        rows = size[0];
        columns = size[1];
        return true;
    }

    /// <summary>Makes the terminal on <paramref name="fd"/> the controlling terminal of the calling session leader.</summary>
    public static void SetControllingTerminal(int fd) =>
        LinuxException.ThrowIfError(Libc.Ioctl(fd, TIOCSCTTY, null), "ioctl TIOCSCTTY", fd.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static bool IsTerminal(int fd) => Libc.Isatty(fd) == 1;

    /// <summary>Puts the terminal on <paramref name="fd"/> into raw mode; returns the settings to restore.</summary>
    public static byte[] MakeRaw(int fd)
    {
        var saved = new byte[TermiosSize];
        fixed (byte* p = saved)
        {
            LinuxException.ThrowIfError(Libc.Tcgetattr(fd, p), "tcgetattr");
            var raw = stackalloc byte[TermiosSize];
            new ReadOnlySpan<byte>(p, TermiosSize).CopyTo(new Span<byte>(raw, TermiosSize));
            Libc.Cfmakeraw(raw);
            LinuxException.ThrowIfError(Libc.Tcsetattr(fd, TCSANOW, raw), "tcsetattr");
        }

        return saved;
    }

    /// <summary>Restores settings <see cref="MakeRaw"/> returned.</summary>
    public static void Restore(int fd, byte[] saved)
    {
        fixed (byte* p = saved)
        {
            _ = Libc.Tcsetattr(fd, TCSANOW, p);
        }
    }
}
