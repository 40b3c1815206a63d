using System.IO.Pipes;
using Microsoft.Win32.SafeHandles;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// The descriptors of one exec: pipes (stdin only when asked for), or, with a tty, a socket on which the helper
/// sends the master of a pty it opened in the container's devpts (the peer becomes its stdin, stdout and stderr). The runtime keeps its ends as streams; the child's ends are closed here once the child has them, so
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

    public Stream Stdout { get; private set; } = Stream.Null;

    public Stream? Stderr { get; private init; }

    /// <summary>The pty's master with a tty (for resizing), once the helper has sent it; else null.</summary>
    public SafeFileHandle? Terminal { get; private set; }

    /// <summary>With a tty: the runtime's end of the socket the helper sends the pty's master on.</summary>
    public SafeFileHandle? TerminalChannel { get; private set; }

    private bool _stdinWanted;

    public static ExecStdio Create(ExecRequest request) => request.Tty ? WithTerminal(request.Stdin) : WithPipes(request.Stdin);

    private static ExecStdio WithPipes(bool stdin)
    {
        var (outRead, outWrite) = FileDescriptors.CreatePipe();
        var (errRead, errWrite) = FileDescriptors.CreatePipe();
        var stdio = new ExecStdio
        {
            Stdout = PipeOf(outRead, PipeDirection.In),
            Stderr = PipeOf(errRead, PipeDirection.In),
        };
        stdio._childEnds.AddRange([outWrite, errWrite]);
        var childIn = -1;
        if (stdin)
        {
            var (inRead, inWrite) = FileDescriptors.CreatePipe();
            stdio.Stdin = PipeOf(inWrite, PipeDirection.Out);
            stdio._childEnds.Add(inRead);
            childIn = (int)inRead.DangerousGetHandle();
        }

        stdio.ChildStdio = new SpawnStdio(childIn, (int)outWrite.DangerousGetHandle(), (int)errWrite.DangerousGetHandle());
        return stdio;
    }

    /// <summary>
    /// The runtime's end of a pipe as a <see cref="PipeStream"/>, whose asynchronous reads and writes wait in .NET's
    /// epoll loop. (A <see cref="FileStream"/> over a pipe reads by blocking a thread-pool thread until the command
    /// writes or exits: with tens of exec probes a second, that starved the pool and delayed every probe.)
    /// </summary>
    private static PipeStream PipeOf(SafeFileHandle end, PipeDirection direction)
    {
        var raw = end.DangerousGetHandle();
        end.SetHandleAsInvalid();
        return new AnonymousPipeClientStream(direction, new SafePipeHandle(raw, ownsHandle: true));
    }

    /// <summary>
    /// A helper's own descriptors (an exec server's: /dev/null) and a descriptor it inherits under its own number,
    /// closed here, with the other child ends, once the helper has it.
    /// </summary>
    public static ExecStdio ForHelper(SpawnStdio stdio, SafeFileHandle inherited)
    {
        var helper = new ExecStdio { ChildStdio = stdio };
        helper._childEnds.Add(inherited);
        return helper;
    }

    /// <summary>The child's ends as they go to an exec server: stdout, stderr, then stdin when there is one.</summary>
    public int[] ChildEndsForServer() =>
        ChildStdio.Stdin < 0 ? [ChildStdio.Stdout, ChildStdio.Stderr] : [ChildStdio.Stdout, ChildStdio.Stderr, ChildStdio.Stdin];

    /// <summary>The helper gets one end of a socket pair as fds 0-2 and sends the pty's master on it (<see cref="AttachTerminal"/>).</summary>
    private static ExecStdio WithTerminal(bool stdin)
    {
        var (ours, theirs) = DescriptorPassing.CreateSocketPair();
        var stdio = new ExecStdio { TerminalChannel = ours, _stdinWanted = stdin };
        stdio._childEnds.Add(theirs);
        var fd = (int)theirs.DangerousGetHandle();
        stdio.ChildStdio = new SpawnStdio(fd, fd, fd);
        return stdio;
    }

    /// <summary>Receives the pty's master from the helper (blocking); false when the helper ended without sending one.</summary>
    public bool AttachTerminal()
    {
        using var channel = TerminalChannel!;
        TerminalChannel = null;
        var master = DescriptorPassing.Receive(channel);
        if (master is null)
        {
            return false;
        }

        Terminal = master;
        Stdout = new TerminalOutputStream(new FileStream(FileDescriptors.Duplicate(master), FileAccess.Read, 1));
        if (_stdinWanted)
        {
            Stdin = new FileStream(FileDescriptors.Duplicate(master), FileAccess.Write, 1);
        }

        return true;
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
        TerminalChannel?.Dispose();
    }
}
