using Microsoft.Win32.SafeHandles;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// The descriptors of one exec: pipes (stdin only when asked for), or a pty whose peer is the child's stdin, stdout
/// and stderr. The runtime keeps its ends as streams; the child's ends are closed here once the child has them, so
/// end-of-file (or EIO on the pty) arrives when the last process holding them ends.
/// </summary>
internal sealed class ExecStdio : IDisposable
{
    private readonly List<SafeFileHandle> _childEnds = [];

    private ExecStdio()
    {
    }

    public SpawnStdio ChildStdio { get; private set; }

    public Stream? Stdin { get; private set; }

    public required Stream Stdout { get; init; }

    public Stream? Stderr { get; private init; }

    /// <summary>The pty's master with a tty (for resizing), else null.</summary>
    public SafeFileHandle? Terminal { get; private init; }

    public static ExecStdio Create(ExecRequest request) => request.Tty ? WithTerminal(request.Stdin, request.InitialSize) : WithPipes(request.Stdin);

    private static ExecStdio WithPipes(bool stdin)
    {
        var (outRead, outWrite) = FileDescriptors.CreatePipe();
        var (errRead, errWrite) = FileDescriptors.CreatePipe();
        var stdio = new ExecStdio
        {
            Stdout = new FileStream(outRead, FileAccess.Read, 1),
            Stderr = new FileStream(errRead, FileAccess.Read, 1),
        };
        stdio._childEnds.AddRange([outWrite, errWrite]);
        var childIn = -1;
        if (stdin)
        {
            var (inRead, inWrite) = FileDescriptors.CreatePipe();
            stdio.Stdin = new FileStream(inWrite, FileAccess.Write, 1);
            stdio._childEnds.Add(inRead);
            childIn = (int)inRead.DangerousGetHandle();
        }

        stdio.ChildStdio = new SpawnStdio(childIn, (int)outWrite.DangerousGetHandle(), (int)errWrite.DangerousGetHandle());
        return stdio;
    }

    private static ExecStdio WithTerminal(bool stdin, TerminalSize? size)
    {
        var (master, peer) = NodeAgent.Linux.Terminal.OpenPty();
        if (size is { } initial)
        {
            NodeAgent.Linux.Terminal.SetWindowSize(master, initial.Width, initial.Height);
        }

        var stdio = new ExecStdio
        {
            Stdout = new TerminalOutputStream(new FileStream(FileDescriptors.Duplicate(master), FileAccess.Read, 1)),
            Terminal = master,
        };
        if (stdin)
        {
            stdio.Stdin = new FileStream(FileDescriptors.Duplicate(master), FileAccess.Write, 1);
        }

        stdio._childEnds.Add(peer);
        var fd = (int)peer.DangerousGetHandle();
        stdio.ChildStdio = new SpawnStdio(fd, fd, fd);
        return stdio;
    }

    public void CloseChildEnds()
    {
        foreach (var end in _childEnds)
        {
            end.Dispose();
        }

        _childEnds.Clear();
    }

    public void Dispose()
    {
        CloseChildEnds();
        Stdin?.Dispose();
        Stdout.Dispose();
        Stderr?.Dispose();
        Terminal?.Dispose();
    }
}
