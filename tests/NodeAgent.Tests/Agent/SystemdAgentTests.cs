using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// The daemon under systemd (Type=notify): started as systemd starts a service (NOTIFY_SOCKET, SYSTEMD_EXEC_PID
/// naming the service's own process), it sends READY=1 once it serves and STOPPING=1 on SIGTERM, to a unix datagram
/// socket the test binds. And kubelet's --logging-format=json: every line the daemon writes is one JSON object.
/// </summary>
[Collection("agent")]
public sealed class SystemdAgentTests : IAsyncLifetime
{
    private RuntimeFixture _rt = null!;
    private TempDir _dir = null!;

    public Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _rt = new RuntimeFixture();
            _dir = new TempDir("nodeagent-systemd");
        }

        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _rt?.Dispose();
        _dir?.Dispose();
        return Task.CompletedTask;
    }

    [PrivilegedFact]
    public async Task NotifiesReadyWhenServingAndStoppingOnSigterm()
    {
        var socketPath = _dir.Combine("notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        var manifests = Directory.CreateDirectory(_dir.Combine("manifests")).FullName;

        // systemd sets SYSTEMD_EXEC_PID to the service's PID; the shell execs the agent, which keeps that PID.
        await using var agent = await AgentProcess.StartConfiguredAsync(null, _rt, manifests, psi =>
        {
            psi.ArgumentList.Insert(0, "-c");
            psi.ArgumentList.Insert(1, "export SYSTEMD_EXEC_PID=$$; exec \"$0\" \"$@\"");
            psi.ArgumentList.Insert(2, psi.FileName);
            psi.FileName = "/bin/sh";
            psi.Environment["NOTIFY_SOCKET"] = socketPath;
        });

        Assert.Equal("READY=1", await ReceiveAsync(socket));
        Assert.True(await agent.HealthyAsync());
        // Ready only once the API listens (the log is asynchronous: wait for the line, then compare the order).
        await agent.WaitForLogAsync(l => l.Contains("nodeagent agent ready", StringComparison.Ordinal));
        var lines = agent.Lines.ToList();
        var listening = lines.FindIndex(l => l.Contains("read-only API listening", StringComparison.Ordinal));
        var ready = lines.FindIndex(l => l.Contains("nodeagent agent ready", StringComparison.Ordinal));
        Assert.InRange(listening, 0, ready - 1);

        var stopped = agent.StopAsync();
        Assert.Equal("STOPPING=1", await ReceiveAsync(socket));
        AssertCleanStop(await stopped, agent);
    }

    [PrivilegedFact]
    public async Task SigtermWhileStartingIsACleanStop()
    {
        // The config warnings are written just before the host starts (the node IP of the tests is not local): a
        // SIGTERM then lands while the read-only API and the kubelet start. A stop asked for is a clean exit, not
        // a failure to start (systemd counts an exit status of 143 as a failed service).
        var manifests = Directory.CreateDirectory(_dir.Combine("manifests")).FullName;
        await using var agent = AgentProcess.Launch(null, _rt, manifests, null);
        await agent.WaitForLogAsync(l => l.Contains("--node-ip: node IP", StringComparison.Ordinal));
        AssertCleanStop(await agent.StopAsync(), agent);
        Assert.DoesNotContain(agent.Lines, l => l.StartsWith("Unhandled exception", StringComparison.Ordinal) || l.StartsWith("nodeagent: ", StringComparison.Ordinal));
    }

    // A stop asked for by SIGTERM is a clean exit: systemd counts an exit status of 143 as a failure.
    private static void AssertCleanStop(int code, AgentProcess agent) =>
        Assert.True(code == 0, $"agent exit status {code}; it said:\n{string.Join('\n', agent.Lines)}");

    [PrivilegedFact]
    public async Task NotifiesAnAbstractSocketAsSdNotifyDoes()
    {
        // NOTIFY_SOCKET alone is enough (as for sd_notify(3)); '@' names a socket in the abstract namespace.
        var name = $"nodeagent-test-{Guid.NewGuid():N}";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        var manifests = Directory.CreateDirectory(_dir.Combine("manifests")).FullName;
        await using var agent = await AgentProcess.StartConfiguredAsync(null, _rt, manifests, psi => psi.Environment["NOTIFY_SOCKET"] = "@" + name);

        Assert.Equal("READY=1", await ReceiveAsync(socket));
        var stopped = agent.StopAsync();
        Assert.Equal("STOPPING=1", await ReceiveAsync(socket));
        AssertCleanStop(await stopped, agent);
    }

    [PrivilegedFact]
    public async Task JsonLoggingWritesOneObjectPerLine()
    {
        var manifests = Directory.CreateDirectory(_dir.Combine("manifests")).FullName;
        await using var agent = await AgentProcess.StartAsync(_rt, manifests, "--logging-format", "json", "--config", WriteConfig());
        var warning = await agent.WaitForLogAsync(l => l.Contains("unknown field", StringComparison.Ordinal));
        await agent.WaitForLogAsync(l => l.Contains("nodeagent agent ready", StringComparison.Ordinal));
        AssertCleanStop(await agent.StopAsync(), agent);

        using (var doc = JsonDocument.Parse(warning))
        {
            Assert.Equal("warning", doc.RootElement.GetProperty("level").GetString());
            Assert.Contains("unknown field \"notAField\"", doc.RootElement.GetProperty("msg").GetString(), StringComparison.Ordinal);
        }

        Assert.NotEmpty(agent.Lines);
        foreach (var line in agent.Lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.True(doc.RootElement.GetProperty("ts").GetDouble() > 0, line);
            Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("msg").GetString()), line);
        }
    }

    private string WriteConfig()
    {
        var file = _dir.Combine("kubelet.yaml");
        File.WriteAllText(file, "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnotAField: 1\n");
        return file;
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }
}
