using System.Net;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// The kubelet API of a standalone node (no API server): Webhook authorization cannot be asked, so by default only
/// the healthz port serves (and the log says why); with <c>--authorization-mode AlwaysAllow --anonymous-auth</c> the
/// HTTPS API serves a static pod's logs.
/// </summary>
[Collection("agent")]
public sealed class KubeletApiStandaloneAgentTests : AgentNodeTest
{
    private static HttpClient Https(AgentProcess agent) =>
        new(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{agent.ApiPort}"),
            Timeout = TimeSpan.FromSeconds(30),
        };

    [PrivilegedFact]
    public async Task WebhookWithoutAnApiServerServesOnlyHealthz()
    {
        var agent = await Node.StartAsync();
        await agent.WaitForLogAsync(l => l.Contains("healthz listening", StringComparison.Ordinal));
        await agent.WaitForLogAsync(l => l.Contains("--authorization-mode=Webhook needs an API server", StringComparison.Ordinal));
        using var plain = new HttpClient();
        Assert.Equal("ok", await plain.GetStringAsync($"http://127.0.0.1:{agent.HealthzPort}/healthz"));
        using var https = Https(agent);
        await Assert.ThrowsAsync<HttpRequestException>(() => https.GetAsync("/healthz"));
    }

    [PrivilegedFact]
    public async Task AlwaysAllowWithAnonymousAccessServesAStaticPodsLogs()
    {
        Node.Write("talk.yaml", """
            apiVersion: v1
            kind: Pod
            metadata: {name: talk}
            spec:
              hostNetwork: true
              terminationGracePeriodSeconds: 1
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                command: ["sh", "-c", "echo hello-static; while true; do sleep 1; done"]

            """);
        var agent = await Node.StartAsync("--authorization-mode", "AlwaysAllow", "--anonymous-auth", "true");
        await agent.WaitForLogAsync(l => l.Contains("kubelet API listening", StringComparison.Ordinal));
        await agent.WaitForEventAsync("talk-node1", "Started");
        using var https = Https(agent);
        Assert.Equal("ok", await https.GetStringAsync("/healthz"));

        // Follow until the line is there: the request itself waits for it, no polling.
        using var r = await https.GetAsync("/containerLogs/default/talk-node1/main?follow=true", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var reader = new StreamReader(await r.Content.ReadAsStreamAsync());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Assert.Equal("hello-static", await reader.ReadLineAsync(cts.Token));
        Assert.True(File.Exists(Path.Combine(Node.Rt.Root, "pki", "kubelet.crt")), "the self-signed serving certificate is under the root dir");
    }
}
