using System.Net;
using System.Net.Sockets;
using System.Text;
using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Prober;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Prober;

/// <summary>
/// The probe runner against a real server inside a network namespace the test creates (the stand-in for a pod
/// without a routable address: the probe reaches it on the namespace's loopback, through a socket made there):
/// httpGet as kubelet's HTTP prober (status codes, body, headers, User-Agent, redirects on and off the host, the
/// timeout), tcpSocket (connect, refused, named ports) and bad probe values, which fail with a reason.
/// </summary>
public sealed class ProbeRunnerTests : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-probe");
    private readonly string _netns;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _requests = [];
    private readonly ProbeRunner _runner;

    public ProbeRunnerTests()
    {
        _netns = _dir.Combine("pod.netns");
        _runner = new ProbeRunner(new NetnsSockets(_netns), null);
        if (Privileged.SkipRequested)
        {
            _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            return;
        }
        NetworkNamespace.CreatePinned(_netns);
        _listener = NetworkNamespace.Run(_netns, () => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 8080));
        _listener.Listen(16);
        _ = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    var buffer = new byte[4096];
                    var total = 0;
                    while (!Encoding.ASCII.GetString(buffer, 0, total).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var n = await client.ReceiveAsync(buffer.AsMemory(total), _stop.Token);
                        if (n == 0)
                        {
                            return;
                        }
                        total += n;
                    }
                    var request = Encoding.ASCII.GetString(buffer, 0, total);
                    lock (_requests)
                    {
                        _requests.Add(request);
                    }
                    var path = request.Split(' ')[1];
                    var response = path switch
                    {
                        "/ok" => "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfine",
                        "/fail" => "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
                        "/moved" => "HTTP/1.1 302 Found\r\nLocation: /ok\r\nContent-Length: 0\r\n\r\n",
                        "/away" => "HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/x\r\nContent-Length: 5\r\n\r\nbye!!",
                        "/loop" => "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n",
                        "/slow" => null,
                        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
                    };
                    if (response is null)
                    {
                        // Never answers: the probe's timeout ends it.
                        await Task.Delay(Timeout.Infinite, _stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                        return;
                    }
                    await client.SendAsync(Encoding.ASCII.GetBytes(response));
                    // A graceful close: end our side, then wait for the client's, so nothing is reset.
                    client.Shutdown(SocketShutdown.Send);
                    while (await client.ReceiveAsync(buffer, _stop.Token) > 0)
                    {
                    }
                }
            });
        }
    }

    private static readonly V1Container Container = new()
    {
        Name = "web",
        Image = "x",
        Ports = [new V1ContainerPort { Name = "http", ContainerPort = 8080 }],
    };

    private static ProbeTarget Target => new(new V1Pod { Metadata = new V1ObjectMeta { Name = "p", Uid = "u" } }, Container, "c1", "s1", null);

    private Task<ProbeOutcome> HttpAsync(string path, string port = "8080", IList<V1HTTPHeader>? headers = null) =>
        _runner.RunAsync(Target, new V1Probe { HttpGet = new V1HTTPGetAction { Path = path, Port = port, HttpHeaders = headers }, TimeoutSeconds = 1 }, default);

    [PrivilegedFact]
    public async Task HttpGetSucceedsOn2xxWithTheBodyAndFailsOnOtherCodesAsKubeletSays()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Success, "fine"), await HttpAsync("/ok"));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "HTTP probe failed with statuscode: 500"), await HttpAsync("/fail"));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "HTTP probe failed with statuscode: 404"), await HttpAsync("/nothing"));
        // A port by the container port's name.
        Assert.Equal(ProbeResult.Success, (await HttpAsync("/ok", "http")).Result);
    }

    [PrivilegedFact]
    public async Task HttpGetSendsKubeletsHeadersAndTheProbesOwn()
    {
        await HttpAsync("/ok", headers: [new V1HTTPHeader { Name = "X-Check", Value = "deep" }, new V1HTTPHeader { Name = "Host", Value = "web.example" }]);
        var request = _requests.Single();
        Assert.StartsWith("GET /ok HTTP/1.1\r\n", request, StringComparison.Ordinal);
        Assert.Contains("User-Agent: kube-probe/1.32\r\n", request, StringComparison.Ordinal);
        Assert.Contains("Accept: */*\r\n", request, StringComparison.Ordinal);
        Assert.Contains("X-Check: deep\r\n", request, StringComparison.Ordinal);
        Assert.Contains("Host: web.example\r\n", request, StringComparison.Ordinal);
        Assert.Contains("Connection: close\r\n", request, StringComparison.Ordinal);
    }

    [PrivilegedFact]
    public async Task RedirectsAreFollowedOnTheSameHostAndAreAWarningElsewhere()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Success, "fine"), await HttpAsync("/moved"));
        Assert.Equal(new ProbeOutcome(ProbeResult.Warning, "Probe terminated redirects, Response body: bye!!"), await HttpAsync("/away"));
        var loop = await HttpAsync("/loop");
        Assert.Equal(ProbeResult.Failure, loop.Result);
        Assert.True(loop.Output.Contains("stopped after 10 redirects", StringComparison.Ordinal), loop.Output);
    }

    [PrivilegedFact]
    public async Task AServerThatDoesNotAnswerFailsAtTheTimeout()
    {
        var slow = await HttpAsync("/slow");
        Assert.Equal(ProbeResult.Failure, slow.Result);
        Assert.Equal("timeout: probe did not answer within 1s", slow.Output);
    }

    [PrivilegedFact]
    public async Task TcpSocketConnectsOrSaysWhyNot()
    {
        Assert.Equal(ProbeResult.Success, (await _runner.RunAsync(Target, new V1Probe { TcpSocket = new V1TCPSocketAction { Port = "http" } }, default)).Result);
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "dial tcp 127.0.0.1:9090: connect: connection refused"),
            await _runner.RunAsync(Target, new V1Probe { TcpSocket = new V1TCPSocketAction { Port = "9090" } }, default));
        var refusedHttp = await HttpAsync("/ok", "9090");
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "Get \"http://127.0.0.1:9090/ok\": dial tcp 127.0.0.1:9090: connect: connection refused"), refusedHttp);
    }

    [PrivilegedTheory]
    [InlineData("metrics", "unable to find port \"metrics\" in container web")]
    [InlineData("0", "unable to find port \"0\" in container web")]
    [InlineData("70000", "unable to find port \"70000\" in container web")]
    public async Task BadPortsFailWithAReason(string port, string expected)
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, expected), await _runner.RunAsync(Target, new V1Probe { TcpSocket = new V1TCPSocketAction { Port = port } }, default));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, expected), await HttpAsync("/ok", port));
    }

    [PrivilegedFact]
    public async Task HostileHttpValuesFailWithAReason()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "invalid path \"/ok??X-Injected: 1\""), await HttpAsync("/ok\r\nX-Injected: 1"));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "invalid header \"Bad Name\""), await HttpAsync("/ok", headers: [new V1HTTPHeader { Name = "Bad Name", Value = "x" }]));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "invalid header \"X\""), await HttpAsync("/ok", headers: [new V1HTTPHeader { Name = "X", Value = "a\r\nInjected: 1" }]));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "unsupported scheme \"FTP\""),
            await _runner.RunAsync(Target, new V1Probe { HttpGet = new V1HTTPGetAction { Port = "8080", Scheme = "FTP" } }, default));
        Assert.Empty(_requests);
    }

    [PrivilegedFact]
    public async Task AnExecProbeWithoutAnExecRuntimeSaysSoAndChangesNothing()
    {
        var outcome = await _runner.RunAsync(Target, new V1Probe { Exec = new V1ExecAction { Command = ["true"] } }, default);
        Assert.Equal(ProbeResult.Unknown, outcome.Result);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener?.Dispose();
        if (!Privileged.SkipRequested)
        {
            NetworkNamespace.RemovePinned(_netns);
        }
        _dir.Dispose();
        _stop.Dispose();
    }
}
