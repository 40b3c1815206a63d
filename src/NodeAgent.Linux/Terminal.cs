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
    /// A new pty pair from /dev/ptmx, both ends close-on-exec; the peer (slave) is opened through the master
    /// (TIOCGPTPEER), never by a path in /dev/pts.
    /// </summary>
    public static (SafeFileHandle Master, SafeFileHandle Peer) OpenPty()
    {
        var flags = Tmds.Linux.LibC.O_RDWR | Tmds.Linux.LibC.O_NOCTTY | Tmds.Linux.LibC.O_CLOEXEC;
        var master = new SafeFileHandle(LinuxException.ThrowIfError(Libc.Open("/dev/ptmx", flags, 0), "open", "/dev/ptmx"), ownsHandle: true);
        try
        {
            var unlock = 0;
            LinuxException.ThrowIfError(Libc.Ioctl((int)master.DangerousGetHandle(), TIOCSPTLCK, &unlock), "ioctl TIOCSPTLCK", "/dev/ptmx");
            var peer = LinuxException.ThrowIfError(Libc.Ioctl((int)master.DangerousGetHandle(), TIOCGPTPEER, (void*)(nint)flags), "ioctl TIOCGPTPEER", "/dev/ptmx");
            return (master, new SafeFileHandle(peer, ownsHandle: true));
        }
        catch
        {
            master.Dispose();
            throw;
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
