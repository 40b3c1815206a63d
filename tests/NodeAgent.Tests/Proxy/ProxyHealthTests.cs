using System.Text.Json;
using k8s.Models;
using NodeAgent.Proxy;

namespace NodeAgent.Tests.Proxy;

public class ProxyHealthTests
{
    /// <summary>A clock the test moves by hand.</summary>
    private sealed class ManualTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly V1Node Node = new() { Metadata = new V1ObjectMeta { Name = "n1" }, Spec = new V1NodeSpec() };

    [Fact]
    public void BeforeTheFirstSyncTheProxyIsHealthyAndReportsNowAsItsLastUpdate()
    {
        var time = new ManualTime();
        var health = new ProxyHealth(TimeSpan.FromSeconds(60), time) { Node = () => Node };

        var (status, body) = health.Answer(livez: false);

        Assert.Equal(200, status);
        Assert.Equal("{\"lastUpdated\":\"2026-12-01T10:00:00Z\",\"currentTime\":\"2026-12-01T10:00:00Z\",\"nodeEligible\":true,\"healthy\":true}", body);
    }

    [Fact]
    public void AChangeNotProgrammedWithinTheTimeoutMakesBothEndpointsUnhealthy()
    {
        var time = new ManualTime();
        var health = new ProxyHealth(TimeSpan.FromSeconds(60), time) { Node = () => Node };
        health.Updated();
        time.Now += TimeSpan.FromSeconds(5);
        health.QueuedUpdate();
        time.Now += TimeSpan.FromSeconds(30);
        Assert.Equal(200, health.Answer(livez: true).Status);

        time.Now += TimeSpan.FromSeconds(31);
        var (status, body) = health.Answer(livez: true);

        Assert.Equal(503, status);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("2026-12-01T10:00:00Z", json.RootElement.GetProperty("lastUpdated").GetString());
        Assert.False(json.RootElement.GetProperty("healthy").GetBoolean());
        Assert.False(json.RootElement.GetProperty("status").GetProperty("IPv4").GetProperty("healthy").GetBoolean());
        Assert.False(json.RootElement.TryGetProperty("nodeEligible", out _));
        Assert.Equal(503, health.Answer(livez: false).Status);

        health.Updated();
        Assert.Equal(200, health.Answer(livez: false).Status);
    }

    [Fact]
    public void HealthzNeedsAnEligibleNodeAndLivezDoesNot()
    {
        var health = new ProxyHealth(TimeSpan.FromSeconds(60), new ManualTime());
        Assert.Equal(503, health.Answer(livez: false).Status);
        Assert.Contains("\"nodeEligible\":false", health.Answer(livez: false).Body);
        Assert.Equal(200, health.Answer(livez: true).Status);

        var doomed = new V1Node { Metadata = new V1ObjectMeta { Name = "n1" }, Spec = new V1NodeSpec { Taints = [new V1Taint { Key = ProxyHealth.ToBeDeletedTaint, Effect = "NoSchedule" }] } };
        health.Node = () => doomed;
        Assert.Equal(503, health.Answer(livez: false).Status);
        health.Node = () => Node;
        Assert.Equal(200, health.Answer(livez: false).Status);
    }
}
