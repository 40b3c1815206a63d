using System.Runtime.InteropServices;
using Tmds.Linux;

namespace NodeAgent.Linux;

/// <summary>
/// One epoll instance served by one dedicated thread: descriptors are added with a non-zero id, and the thread hands
/// each ready id to <c>onEvent</c>; <see cref="Wake"/> (an eventfd, id 0) makes it call <c>onWake</c>. The kernel
/// notifies; nothing polls. Dispose stops the thread, then closes the epoll and eventfd descriptors.
/// </summary>
internal sealed class EpollThread : IDisposable
{
    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly Action<ulong> _onEvent;
    private readonly Action _onWake;
    private volatile bool _disposed;

    public EpollThread(string name, int stackSize, Action<ulong> onEvent, Action onWake)
    {
        (_onEvent, _onWake) = (onEvent, onWake);
        _epoll = LinuxException.ThrowIfError(LibC.epoll_create1(LibC.EPOLL_CLOEXEC), "epoll_create1");
        _wake = LinuxException.ThrowIfError(LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd");
        Add(_wake, 0, LibC.EPOLLIN);
        _thread = new Thread(Loop, stackSize) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public bool Disposed => _disposed;

    public unsafe void Add(int fd, ulong id, int events)
    {
        var ev = new epoll_event { events = events };
        ev.data.u64 = id;
        LinuxException.ThrowIfError(LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_ADD, fd, &ev), "epoll_ctl add",
            fd.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Stops watching <paramref name="fd"/> (nothing once disposed: the epoll descriptor is closed).</summary>
    public unsafe void Remove(int fd)
    {
        if (!_disposed)
        {
            LibC.epoll_ctl(_epoll, LibC.EPOLL_CTL_DEL, fd, null);
        }
    }

    public unsafe void Wake()
    {
        ulong one = 1;
        LibC.write(_wake, &one, 8);
    }

    private unsafe void Loop()
    {
        const int max = 64;
        var events = stackalloc epoll_event[max];
        while (!_disposed)
        {
            var n = LibC.epoll_wait(_epoll, events, max, -1);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == ErrnoNames.EINTR)
                {
                    continue;
                }
                break;
            }
            for (var i = 0; i < n && !_disposed; i++)
            {
                var id = events[i].data.u64;
                if (id == 0)
                {
                    ulong count;
                    LibC.read(_wake, &count, 8);
                    _onWake();
                }
                else
                {
                    _onEvent(id);
                }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Wake();
        _thread.Join();
        LibC.close(_wake);
        LibC.close(_epoll);
    }
}
