using System.Net;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Prober;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Prober;

/// <summary>
/// grpc probes against a real grpc health server (Kestrel with Grpc.AspNetCore, h2c only, the standard
/// <c>grpc.health.v1.Health</c> of Grpc.HealthCheck) listening on the loopback of a network namespace the test
/// creates, the stand-in for a pod without a routable address. Checks kubelet's grpc prober (pkg/probe/grpc): the
/// probe's <c>service</c> is sent, SERVING succeeds with "service healthy", any other status fails with
/// "service unhealthy (responded with …)", an unknown service is the server's NotFound as "error: health rpc probe
/// failed: rpc error: …", a port with no server is retried until the timeout ("timeout: failed to connect service
/// …"), and a server that does not answer in time is "timeout: health rpc did not complete within …".
/// </summary>
public sealed class GrpcProbeRunnerTests : IAsyncLifetime
{
    private const int Port = 50051;
    private readonly TempDir _dir = new("nodeagent-grpc-probe");
    private readonly string _netns;
    private readonly HealthServiceImpl _health = new();
    private readonly ProbeRunner _runner;
    private WebApplication? _server;

    public GrpcProbeRunnerTests()
    {
        _netns = _dir.Combine("pod.netns");
        _runner = new ProbeRunner(new NetnsSockets(_netns), null);
    }

    /// <summary>Answers from the standard implementation, except for the service "slow", which never answers.</summary>
    private sealed class TestHealth(HealthServiceImpl health) : Health.HealthBase
    {
        public override async Task<HealthCheckResponse> Check(HealthCheckRequest request, ServerCallContext context)
        {
            if (request.Service == "slow")
            {
                await Task.Delay(Timeout.Infinite, context.CancellationToken);
            }
            return await health.Check(request, context);
        }
    }

    public async Task InitializeAsync()
    {
        if (Privileged.SkipRequested)
        {
            return;
        }
        NetworkNamespace.CreatePinned(_netns);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(_health);
        // Kestrel's listening socket is made inside the test's namespace.
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = endpoint =>
            NetworkNamespace.Run(_netns, () => SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint)));
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port, l => l.Protocols = HttpProtocols.Http2));
        _server = builder.Build();
        _server.MapGrpcService<TestHealth>();
        await _server.StartAsync();
        _health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        _health.SetStatus("web", HealthCheckResponse.Types.ServingStatus.Serving);
        _health.SetStatus("db", HealthCheckResponse.Types.ServingStatus.NotServing);
    }

    private static readonly V1Container Container = new() { Name = "web", Image = "x" };

    private static ProbeTarget Target(string? podIp = null) =>
        new(new V1Pod { Metadata = new V1ObjectMeta { Name = "p", Uid = "u" } }, Container, "c1", "s1", podIp);

    private Task<ProbeOutcome> GrpcAsync(string? service, int port = Port, string? podIp = null) =>
        _runner.RunAsync(Target(podIp), new V1Probe { Grpc = new V1GRPCAction { Port = port, Service = service }, TimeoutSeconds = 1 }, default);

    [PrivilegedFact]
    public async Task ServingIsHealthyAndTheProbesServiceIsTheOneAsked()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Success, "service healthy"), await GrpcAsync(null));
        Assert.Equal(new ProbeOutcome(ProbeResult.Success, "service healthy"), await GrpcAsync("web"));
        // The pod's IP when it has one (here the namespace's loopback stands for it).
        Assert.Equal(new ProbeOutcome(ProbeResult.Success, "service healthy"), await GrpcAsync("web", podIp: "127.0.0.1"));
    }

    [PrivilegedFact]
    public async Task NotServingFailsWithTheStatusAsKubeletPrintsIt()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "service unhealthy (responded with \"NOT_SERVING\")"), await GrpcAsync("db"));
        _health.SetStatus("web", HealthCheckResponse.Types.ServingStatus.NotServing);
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "service unhealthy (responded with \"NOT_SERVING\")"), await GrpcAsync("web"));
        _health.SetStatus("web", HealthCheckResponse.Types.ServingStatus.Serving);
        Assert.Equal(ProbeResult.Success, (await GrpcAsync("web")).Result);
    }

    [PrivilegedFact]
    public async Task AnUnknownServiceIsTheServersNotFound()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "error: health rpc probe failed: rpc error: code = NotFound desc = "), await GrpcAsync("cache"));
    }

    [PrivilegedFact]
    public async Task APortWithoutAServerIsAConnectTimeout()
    {
        // kubelet dials with WithBlock: a refused connection is retried until the deadline.
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "timeout: failed to connect service \":9999\" within 1s: context deadline exceeded"), await GrpcAsync(null, 9999));
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "timeout: failed to connect service \"127.0.0.1:9999\" within 1s: context deadline exceeded"), await GrpcAsync(null, 9999, "127.0.0.1"));
    }

    [PrivilegedFact]
    public async Task AServerThatDoesNotAnswerIsAnRpcTimeout()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "timeout: health rpc did not complete within 1s"), await GrpcAsync("slow"));
    }

    [PrivilegedFact]
    public async Task AnInvalidPortFailsWithAReason()
    {
        Assert.Equal(new ProbeOutcome(ProbeResult.Failure, "error: failed to connect service at \":70000\": invalid port 70000"), await GrpcAsync(null, 70000));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.StopAsync();
            await _server.DisposeAsync();
        }
        if (!Privileged.SkipRequested)
        {
            NetworkNamespace.RemovePinned(_netns);
        }
        _dir.Dispose();
    }
}
