using Microsoft.Win32.SafeHandles;
using NodeAgent.ContainerSpec;
using NodeAgent.Cri;
using NodeAgent.Linux;
using NodeAgent.Runtime.Exec;

namespace NodeAgent.Tests.Runtime.Exec;

/// <summary>
/// The runtime's side of the exec server protocol against a scripted peer: the server runs as the container's user
/// inside the container, so whatever it sends is untrusted. A stand-in process (<c>sleep</c>) plays the server's
/// process so that "the connection was dropped and the server killed" can be observed.
/// </summary>
public sealed class ExecServerConnectionTests : IAsyncDisposable
{
    private readonly ExitWatcher _exits = new();
    private readonly SafeFileHandle _peer;
    private readonly PidFd _standIn;
    private readonly ExecServerConnection _connection;

    public ExecServerConnectionTests()
    {
        var (ours, theirs) = PacketSockets.CreatePair();
        _peer = theirs;
        var pid = ProcessSpawner.Spawn("/bin/sleep", ["sleep", "300"], [], new SpawnStdio(-1, 2, 2), [], newSession: true);
        _standIn = PidFd.TryOpen(pid)!;
        _connection = new ExecServerConnection("main (0123456789ab)", pid, PidFd.TryOpen(pid)!, ours, _exits);
    }

    /// <summary>The next request on the peer's side: its kind, id, flags, spec and how many descriptors came with it.</summary>
    private (ExecServerRequestKind Kind, int Id, byte Flags, ExecSpec? Spec, int Fds) NextRequest()
    {
        var buffer = new byte[ExecServerMessages.MaxMessageBytes];
        var fds = new List<SafeFileHandle>();
        var n = PacketSockets.Receive(_peer, buffer, fds);
        Assert.True(ExecServerMessages.TryParseRequest(buffer.AsSpan(0, n), out var kind, out var id, out var flags, out var spec));
        foreach (var fd in fds)
        {
            fd.Dispose();
        }

        return (kind, id, flags, spec, fds.Count);
    }

    private void Reply(byte[] message) => PacketSockets.Send(_peer, message, [], TimeSpan.FromSeconds(5));

    private bool StandInKilled() => PidFd.WaitForAllExited([_standIn], TimeSpan.FromSeconds(30));

    [Fact]
    public async Task ACommandStartsRunsAndExitsThroughReplies()
    {
        var starting = _connection.TryStartAsync(new ExecRequest { ContainerId = "c", Command = ["cat"], Env = ["A=b"], Stdin = true }, CancellationToken.None);
        var request = await Task.Run(NextRequest);
        Assert.Equal((ExecServerRequestKind.Start, ExecServerMessages.HasStdin, 3), (request.Kind, request.Flags, request.Fds));
        Assert.Equal(["cat"], request.Spec!.Args);
        Assert.Equal(["A=b"], request.Spec.Env);

        Reply(ExecServerMessages.Reply(ExecServerReplyKind.Started, request.Id, 7));
        var session = (await starting)!;
        session.Kill();
        var kill = NextRequest();
        Assert.Equal((ExecServerRequestKind.Kill, request.Id), (kill.Kind, kill.Id));
        Reply(ExecServerMessages.Reply(ExecServerReplyKind.Exited, request.Id, 137));
        Assert.Equal(137, await session.Exited.WaitAsync(TimeSpan.FromSeconds(30)));
        await session.DisposeAsync();
        Assert.False(_connection.IsClosed);
    }

    [Fact]
    public async Task AFailedStartIsAStartErrorWithTheServersReason()
    {
        var starting = _connection.TryStartAsync(new ExecRequest { ContainerId = "c", Command = ["nope"] }, CancellationToken.None);
        var request = await Task.Run(NextRequest);
        Assert.Equal((ExecServerRequestKind.Start, 0, 2), (request.Kind, (int)request.Flags, request.Fds));
        Reply(ExecServerMessages.Reply(ExecServerReplyKind.Failed, request.Id, 127, "exec: \"nope\": executable file not found in $PATH"));
        var error = await Assert.ThrowsAsync<RuntimeException>(() => starting);
        Assert.Equal(RuntimeErrorKind.StartError, error.Kind);
        Assert.Equal("exec in container main (0123456789ab): exec: \"nope\": executable file not found in $PATH (exit code 127)", error.Message);
        Assert.False(_connection.IsClosed);
    }

    public static TheoryData<string> Hostile => new() { "unknown id", "exit before start", "garbage", "exit code out of range" };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task AReplyNoServerOfOursWouldSendDropsTheConnectionAndKillsTheServer(string what)
    {
        var starting = _connection.TryStartAsync(new ExecRequest { ContainerId = "c", Command = ["true"] }, CancellationToken.None);
        var id = (await Task.Run(NextRequest)).Id;
        Reply(what switch
        {
            "unknown id" => ExecServerMessages.Reply(ExecServerReplyKind.Started, id + 1000, 5),
            "exit before start" => ExecServerMessages.Reply(ExecServerReplyKind.Exited, id, 0),
            "garbage" => [9, 9, 9],
            _ => ExecServerMessages.Reply(ExecServerReplyKind.Exited, id, 0)[..5].Concat(BitConverter.GetBytes(-1)).ToArray(),
        });

        // The command was never confirmed: its caller falls back to a one-shot helper.
        Assert.Null(await starting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(StandInKilled());
        Assert.True(_connection.IsClosed);
    }

    [Fact]
    public async Task AServerThatGoesAwayMidCommandLeavesAnUnknownExitAndTheNextStartFallsBack()
    {
        var starting = _connection.TryStartAsync(new ExecRequest { ContainerId = "c", Command = ["sleep", "9"] }, CancellationToken.None);
        var id = (await Task.Run(NextRequest)).Id;
        Reply(ExecServerMessages.Reply(ExecServerReplyKind.Started, id, 5));
        var session = (await starting)!;
        _peer.Dispose();

        var error = await Assert.ThrowsAsync<RuntimeException>(() => session.Exited.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("its exit code is unknown", error.Message);
        Assert.Null(await _connection.TryStartAsync(new ExecRequest { ContainerId = "c", Command = ["true"] }, CancellationToken.None));
        await session.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _standIn.Signal(9);
        await _connection.DisposeAsync();
        _standIn.Dispose();
        _peer.Dispose();
        _exits.Dispose();
    }
}
