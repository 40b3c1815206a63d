using System.CommandLine;
using System.Runtime.InteropServices;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Cli.Commands;

/// <summary><c>nodeagent ctr exec</c> and <c>ctr attach</c>, as <c>crictl exec</c> and <c>crictl attach</c> behave.</summary>
internal static class CtrExecCommands
{
    /// <summary>How long output left open by processes the command started is still copied after it exits.</summary>
    private static readonly TimeSpan DrainAfterExit = TimeSpan.FromSeconds(2);

    public static Command BuildExec()
    {
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Keep stdin open and forward it to the command" };
        var tty = new Option<bool>("--tty", "-t") { Description = "Run the command on a terminal (window size changes are forwarded)" };
        var container = new Argument<string>("CONTAINER") { Description = "Container ID, unique ID prefix or name" };
        var command = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.OneOrMore, Description = "Command and arguments" };
        var cmd = new Command("exec", "Run a command in a running container; exits with the command's exit code");
        cmd.Options.Add(interactive);
        cmd.Options.Add(tty);
        cmd.Arguments.Add(container);
        cmd.Arguments.Add(command);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            var id = CtrCommands.Find(host.Runtime, pr.GetValue(container)!);
            var request = new ExecRequest { ContainerId = id, Command = pr.GetValue(command)!, Tty = pr.GetValue(tty), Stdin = pr.GetValue(interactive), InitialSize = LocalWindowSize() };
            return await RunAsync(host.Runtime, request, ct);
        }));
        return cmd;
    }

    private static async Task<int> RunAsync(IRuntimeService runtime, ExecRequest request, CancellationToken ct)
    {
        // Our stdio as plain descriptors, not .NET's console streams: the console layer keeps its own idea of the
        // terminal's settings and may put them back, which would undo raw mode.
        var stdinSource = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
        IExecSession? session = null;
        using var winch = request.Tty ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, c =>
        {
            c.Cancel = true;
            if (session is not null && LocalWindowSize() is { } size)
            {
                session.Resize(size);
            }
        }) : null;
        var localTty = request.Tty && Terminal.IsTerminal(0);
        byte[]? saved = localTty && request.Stdin ? Terminal.MakeRaw(0) : null;
        try
        {
            await using var started = session = await runtime.ExecAsync(request, ct);
            using var kill = ct.Register(session.Kill);
            var output = Task.WhenAll(
                CopyAsync(session.Stdout, 1),
                session.Stderr is null ? Task.CompletedTask : CopyAsync(session.Stderr, 2));
            if (session.Stdin is { } stdin)
            {
                _ = ForwardStdinAsync(stdinSource, stdin, request.Tty);
            }

            var code = await session.Exited;
            await Task.WhenAny(output, Task.Delay(DrainAfterExit, CancellationToken.None));
            return code;
        }
        finally
        {
            if (saved is not null)
            {
                Terminal.Restore(0, saved);
            }
        }
    }

    /// <summary>The local terminal's size (stdin's, else stdout's); null without a terminal.</summary>
    private static TerminalSize? LocalWindowSize() =>
        Terminal.TryGetWindowSize(0, out var columns, out var rows) || Terminal.TryGetWindowSize(1, out columns, out rows)
            ? new TerminalSize(columns, rows)
            : null;

    /// <summary>Copies our stdin to the command's; at end-of-file a pipe is closed (the command sees end-of-file too).</summary>
    private static async Task ForwardStdinAsync(Stream source, Stream target, bool tty)
    {
        try
        {
            await source.CopyToAsync(target);
            if (!tty)
            {
                await target.DisposeAsync();
            }
        }
        catch (IOException)
        {
            // The command ended and closed its end.
        }
    }

    /// <summary>
    /// Copies the command's output to our descriptor <paramref name="fd"/> with write(2), which advances the offset
    /// the descriptor shares with the shell: a FileStream over a regular file writes at a position of its own
    /// (pwrite), so after <c>nodeagent ctr exec … &gt;&gt; file</c> the shell's next write overwrote the output.
    /// </summary>
    private static async Task CopyAsync(Stream source, int fd)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await source.ReadAsync(buffer)) > 0)
            {
                FileDescriptors.WriteAll(fd, buffer.AsSpan(0, n));
            }
        }
        catch (IOException)
        {
            // EIO from a pty once the last process holding it has gone: the output ends.
        }
    }

    public static Command BuildAttach()
    {
        var container = new Argument<string>("CONTAINER") { Description = "Container ID, unique ID prefix or name" };
        var cmd = new Command("attach", "Print a running container's output from now on until it exits; exits with its exit code. " +
            "Containers have no stdin or terminal in this runtime, so only stdout and stderr are attached");
        cmd.Arguments.Add(container);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            var id = CtrCommands.Find(host.Runtime, pr.GetValue(container)!);
            var status = host.Runtime.ContainerStatus(id)!;
            if (status.State != ContainerState.Running)
            {
                throw new InvalidOperationException($"container {status.Name} ({id[..12]}) is not running");
            }

            await LogPrinter.FollowUntilExitAsync(status.LogPath, host.Runtime.WaitContainerAsync(id, ct), tail: 0);
            return host.Runtime.ContainerStatus(id)!.ExitCode;
        }));
        return cmd;
    }
}
