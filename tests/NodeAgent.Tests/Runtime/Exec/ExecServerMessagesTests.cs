using NodeAgent.ContainerSpec;

namespace NodeAgent.Tests.Runtime.Exec;

/// <summary>The exec server's wire format: what each side sends parses back, and what neither would send is refused.</summary>
public sealed class ExecServerMessagesTests
{
    [Fact]
    public void RequestsAndRepliesRoundTrip()
    {
        var start = ExecServerMessages.Start(42, new ExecSpec { Args = ["sh", "-c", "echo ü"], Env = ["X=1"] }, hasStdin: true);
        Assert.True(ExecServerMessages.TryParseRequest(start, out var kind, out var id, out var flags, out var spec));
        Assert.Equal((ExecServerRequestKind.Start, 42, ExecServerMessages.HasStdin), (kind, id, flags));
        Assert.Equal(["sh", "-c", "echo ü"], spec!.Args);
        Assert.Equal(["X=1"], spec.Env);

        Assert.True(ExecServerMessages.TryParseRequest(ExecServerMessages.Kill(7), out kind, out id, out _, out spec));
        Assert.Equal((ExecServerRequestKind.Kill, 7, (ExecSpec?)null), (kind, id, spec));

        Assert.True(ExecServerMessages.TryParseReply(ExecServerMessages.Reply(ExecServerReplyKind.Failed, 3, 127, "why"), out var reply, out id, out var value, out var reason));
        Assert.Equal((ExecServerReplyKind.Failed, 3, 127, "why"), (reply, id, value, reason));
    }

    [Fact]
    public void AReasonIsCappedWhenSentAndRefusedWhenLonger()
    {
        var sent = ExecServerMessages.Reply(ExecServerReplyKind.Failed, 1, 127, new string('x', 10_000));
        Assert.True(ExecServerMessages.TryParseReply(sent, out _, out _, out _, out var reason));
        Assert.Equal(ExecServerMessages.MaxReasonBytes, reason.Length);
        Assert.False(ExecServerMessages.TryParseReply([.. sent, (byte)'x'], out _, out _, out _, out _));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 1, 0, 0, 0 })]
    [InlineData(new byte[] { 3, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 1, 1, 0, 0, 0, 0, (byte)'{' })]
    [InlineData(new byte[] { 1, 1, 0, 0, 0, 0, (byte)'n', (byte)'u', (byte)'l', (byte)'l' })]
    public void MalformedRequestsAreRefused(byte[] message) =>
        Assert.False(ExecServerMessages.TryParseRequest(message, out _, out _, out _, out _));

    [Fact]
    public void AStartWithoutACommandIsRefused() =>
        Assert.False(ExecServerMessages.TryParseRequest(ExecServerMessages.Start(1, new ExecSpec { Args = [] }, false), out _, out _, out _, out _));

    [Theory]
    [InlineData(new byte[] { 1, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 4, 0, 0, 0, 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 3, 0, 0, 0, 0, 0, 1, 0, 0 })]
    public void MalformedRepliesAreRefused(byte[] message) =>
        Assert.False(ExecServerMessages.TryParseReply(message, out _, out _, out _, out _));
}
