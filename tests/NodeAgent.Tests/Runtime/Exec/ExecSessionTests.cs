using System.Text;
using NodeAgent.Cri;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime.Exec;

/// <summary>Streaming exec (what <c>kubectl exec -i</c> and <c>-it</c> reach through the kubelet API): stdin, a terminal, resize; through one-shot helpers and through resident exec servers (with a tty, both use a one-shot helper).</summary>
public abstract class ExecSessionTests(bool residentExecServers) : IDisposable
{
    private readonly RuntimeFixture _rt = new(residentExecServers: residentExecServers);

    [PrivilegedFact]
    public async Task StdinReachesTheCommandAndItsEndOfFileEndsIt()
    {
        var (_, id) = await _rt.StartAsync("stdin", RuntimeFixture.Container("main", "sleep", "300"));
        await using var session = await _rt.Runtime.ExecAsync(
            new ExecRequest { ContainerId = id, Command = ["sh", "-c", "cat; echo done >&2; exit 9"], Stdin = true }, CancellationToken.None);
        await session.Stdin!.WriteAsync("one\ntwo\n"u8.ToArray());
        await session.Stdin.DisposeAsync();
        var stdout = new StreamReader(session.Stdout).ReadToEndAsync();
        var stderr = new StreamReader(session.Stderr!).ReadToEndAsync();
        Assert.Equal(9, await session.Exited.WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal("one\ntwo\n", await stdout);
        Assert.Equal("done\n", await stderr);
    }

    [PrivilegedFact]
    public async Task TtyIsTheControllingTerminalAndResizeReachesIt()
    {
        var (_, id) = await _rt.StartAsync("tty", RuntimeFixture.Container("main", "sleep", "300"));
        await using var session = await _rt.Runtime.ExecAsync(
            new ExecRequest { ContainerId = id, Command = ["sh"], Tty = true, Stdin = true }, CancellationToken.None);
        Assert.Null(session.Stderr);
        session.Resize(new TerminalSize(100, 40));
        var output = ReadAllAsync(session.Stdout);
        // stty size reads the terminal's size; [ -t 0 ] tests that stdin is a terminal; /dev/tty opens only the controlling one.
        await session.Stdin!.WriteAsync(Encoding.UTF8.GetBytes("stty size; [ -t 0 ] && echo is-a-tty; echo ok > /dev/tty; echo term=$TERM; tty; exit 5\n"));
        await session.Stdin.FlushAsync();
        Assert.Equal(5, await session.Exited.WaitAsync(TimeSpan.FromSeconds(60)));
        var text = await output.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Contains("40 100\r\n", text);
        Assert.Contains("is-a-tty\r\n", text);
        Assert.Contains("ok\r\n", text);
        Assert.Contains("term=xterm\r\n", text); // containerd sets TERM=xterm for a tty exec

        // The terminal is one of the container's own devpts (as runc allocates it), so ttyname(3) finds it.
        Assert.Contains("/dev/pts/0\r\n", text);
    }

    [PrivilegedFact]
    public async Task DisposingARunningSessionKillsIt()
    {
        var (_, id) = await _rt.StartAsync("dispose", RuntimeFixture.Container("main", "sleep", "300"));
        var session = await _rt.Runtime.ExecAsync(new ExecRequest { ContainerId = id, Command = ["sleep", "303"] }, CancellationToken.None);
        var exited = session.Exited;
        await session.DisposeAsync();
        Assert.Equal(137, await exited.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        var text = new StringBuilder();
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }

        return text.ToString();
    }

    public void Dispose()
    {
        _rt.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class ExecSessionOneShotTests() : ExecSessionTests(residentExecServers: false);

public sealed class ExecSessionServedTests() : ExecSessionTests(residentExecServers: true);
