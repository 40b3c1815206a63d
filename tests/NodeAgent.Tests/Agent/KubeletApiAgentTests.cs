using System.Net;
using NodeAgent.Kube.Tests.Support;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #14's server end to end: the real agent joins the test API server and serves the kubelet API over HTTPS
/// (Webhook authorization, client CA = the cluster's CA); the real kubectl reads container logs and the node proxy
/// through the API server, which reaches the agent with its kubelet client certificate, as a real one does.
/// </summary>
[Collection("agent")]
public sealed class KubeletApiAgentTests : ApiAgentTest
{
    private int _apiPort;

    private static string Pod(string name, string script, string restartPolicy = "Always") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
        spec:
          hostNetwork: true
          restartPolicy: {{restartPolicy}}
          terminationGracePeriodSeconds: 2
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: IfNotPresent
            command: ["sh", "-c", "{{script}}"]

        """;

    private async Task<AgentProcess> StartAsync()
    {
        var agent = await Node.StartAsync(Cluster.AgentFlags());
        _apiPort = agent.ApiPort;
        await agent.WaitForLogAsync(l => l.Contains("kubelet API listening", StringComparison.Ordinal));
        await Cluster.WaitNodeReadyAsync();
        return agent;
    }

    private static HttpClient Client(AgentProcess agent, string? token = null, System.Security.Cryptography.X509Certificates.X509Certificate2? cert = null)
    {
        var handler = new SocketsHttpHandler();
        // The agent's self-signed serving certificate (as kubelet's without --tls-cert-file).
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (cert is not null)
        {
            handler.SslOptions.ClientCertificates = [cert];
        }

        var http = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{agent.ApiPort}"), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        }

        return http;
    }

    [PrivilegedFact]
    public async Task CredentialsDecideAndTheHealthzPortAnswersWithoutThem()
    {
        var agent = await StartAsync();
        using (var anonymous = Client(agent))
        {
            foreach (var path in new[] { "/healthz", "/pods", "/metrics", "/stats/summary", "/containerLogs/default/x/main" })
            {
                using var r = await anonymous.GetAsync(path);
                Assert.Equal((HttpStatusCode.Unauthorized, "Unauthorized"), (r.StatusCode, await r.Content.ReadAsStringAsync()));
            }
        }

        // The node's own identity may not read its kubelet API (Node authorizer): 403 naming user, verb and resource.
        using (var nodeCert = Cluster.Server.Pki.IssueClient("system:node:node1", "system:nodes"))
        using (var node = Client(agent, cert: nodeCert))
        using (var r = await node.GetAsync("/containerLogs/default/x/main"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
            Assert.Equal("Forbidden (user=system:node:node1, verb=get, resource=nodes, subresource=proxy)", await r.Content.ReadAsStringAsync());
        }

        using (var admin = Client(agent, Cluster.Server.AdminToken))
        {
            Assert.Equal("ok", await admin.GetStringAsync("/healthz"));
            Assert.Contains("\"kind\":\"PodList\"", await admin.GetStringAsync("/pods"), StringComparison.Ordinal);
            using var missing = await admin.GetAsync("/containerLogs/default/no-such-pod/main");
            Assert.Equal((HttpStatusCode.NotFound, "pod \"no-such-pod\" does not exist"), (missing.StatusCode, await missing.Content.ReadAsStringAsync()));
        }

        using var plain = new HttpClient();
        Assert.Equal("ok", await plain.GetStringAsync($"http://127.0.0.1:{agent.HealthzPort}/healthz"));

        Assert.Equal("ok", await Cluster.KubectlOkAsync("get --raw /api/v1/nodes/node1/proxy/healthz"));
        Assert.Contains("\"kind\":\"PodList\"", await Cluster.KubectlOkAsync("get --raw /api/v1/nodes/node1/proxy/pods"), StringComparison.Ordinal);
    }

    [PrivilegedFact]
    public async Task KubectlLogsTailFollowAndPrevious()
    {
        await StartAsync();
        await Cluster.KubectlOkAsync("create -f -", Pod("talker", "echo first; echo second; i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done"));
        await Cluster.WaitPodAsync("talker", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Running is not null, "running");

        // Follow from the start until tick-2 arrives: kubectl sees lines as the container writes them.
        var followed = await FollowUntilAsync("logs -f talker", l => l == "tick-2");
        Assert.Equal(["first", "second", "tick-1", "tick-2"], followed);
        var logs = await Cluster.KubectlOkAsync("logs talker");
        Assert.StartsWith("first\nsecond\ntick-1\ntick-2\n", logs, StringComparison.Ordinal);

        var tail = await Cluster.KubectlOkAsync("logs talker --tail=1");
        Assert.Matches(@"^tick-\d+\n$", tail);

        var stamped = await Cluster.KubectlOkAsync("logs talker --timestamps --limit-bytes=100");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z first\n", stamped);
        Assert.True(stamped.Length <= 100, stamped);

        // Follow with --tail=1: a line that did not exist when kubectl started arrives.
        var before = int.Parse(tail.Trim()["tick-".Length..], System.Globalization.CultureInfo.InvariantCulture);
        var later = await FollowUntilAsync("logs -f talker --tail=1", l => l.StartsWith("tick-", StringComparison.Ordinal)
            && int.Parse(l[5..], System.Globalization.CultureInfo.InvariantCulture) > before + 1);
        Assert.True(later.Count >= 2, string.Join('\n', later));

        var missing = await Cluster.KubectlAsync("logs talker -c nope");
        Assert.NotEqual(0, missing.ExitCode);
        await HostileQueriesAndAStalledFollowerAsync();
    }

    /// <summary>Bad input straight at the kubelet API: kubelet's answers, absurd sizes bounded, and a follower
    /// that never reads holds up nobody.</summary>
    private async Task HostileQueriesAndAStalledFollowerAsync()
    {
        using var admin = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } })
        {
            BaseAddress = new Uri($"https://127.0.0.1:{_apiPort}"),
            DefaultRequestHeaders = { Authorization = new("Bearer", Cluster.Server.AdminToken) },
        };
        foreach (var (query, status, body) in new[]
                 {
                     ("/containerLogs/default/talker/nope", 404, "container \"nope\" not found in pod \"talker\""),
                     ("/containerLogs/default/talker/main?tailLines=-1", 422, """{"message": "Invalid request."}"""),
                     ("/containerLogs/default/talker/main?tailLines=x", 400, """{"message": "Unable to decode query."}"""),
                     ("/containerLogs/default/talker/main?limitBytes=0", 422, """{"message": "Invalid request."}"""),
                 })
        {
            using var r = await admin.GetAsync(query);
            Assert.Equal((status, body), ((int)r.StatusCode, await r.Content.ReadAsStringAsync()));
        }

        var all = await admin.GetStringAsync("/containerLogs/default/talker/main?tailLines=9223372036854775807&limitBytes=9223372036854775807");
        Assert.StartsWith("first\nsecond\n", all, StringComparison.Ordinal);
        Assert.Equal("fir", await admin.GetStringAsync("/containerLogs/default/talker/main?limitBytes=3"));

        // A follower that sends its request and never reads: the others are served meanwhile.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, _apiPort);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        await tls.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
            $"GET /containerLogs/default/talker/main?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {Cluster.Server.AdminToken}\r\n\r\n"));
        await tls.FlushAsync();
        Assert.Equal("ok", await admin.GetStringAsync("/healthz"));
        Assert.Matches(@"^tick-\d+\n$", await Cluster.KubectlOkAsync("logs talker --tail=1"));
    }

    [PrivilegedFact]
    public async Task KubectlLogsPreviousShowsTheAttemptBeforeARestart()
    {
        await StartAsync();
        await Cluster.KubectlOkAsync("create -f -", Pod("crasher", "echo attempt-$(cat /proc/sys/kernel/random/uuid); sleep 1; exit 3"));
        await Cluster.WaitPodAsync("crasher", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.RestartCount >= 1, "restarted", 120);

        var previous = await Cluster.KubectlOkAsync("logs crasher --previous");
        Assert.Matches(@"^attempt-[0-9a-f-]{36}\n$", previous);
        var current = await FollowUntilAsync("logs -f crasher", l => l.StartsWith("attempt-", StringComparison.Ordinal));
        Assert.NotEqual(previous.Trim(), current.Last());
    }

    [PrivilegedFact]
    public async Task APreviousThatDoesNotExistIsKubeletsError()
    {
        await StartAsync();
        await Cluster.KubectlOkAsync("create -f -", Pod("steady", "echo hello; while true; do sleep 1; done"));
        await Cluster.WaitPodAsync("steady", p => p.Status?.ContainerStatuses?.FirstOrDefault()?.State?.Running is not null, "running");
        var r = await Cluster.KubectlAsync("logs steady --previous");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("previous terminated container \"main\" in pod \"steady\" not found", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>Runs a following kubectl and reads its lines until one matches (or it ends); the lines read.</summary>
    private async Task<List<string>> FollowUntilAsync(string args, Func<string, bool> until, int timeoutSeconds = 90)
    {
        using var follow = Kubectl.Start(Cluster.Server.AdminKubeconfig, args);
        var seen = new List<string>();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
            while (await follow.StandardOutput.ReadLineAsync(cts.Token) is { } line)
            {
                seen.Add(line);
                if (until(line))
                {
                    return seen;
                }
            }

            throw new InvalidOperationException($"kubectl {args} ended without the line; it printed:\n{string.Join('\n', seen)}\n{await follow.StandardError.ReadToEndAsync()}");
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"kubectl {args}: no matching line within {timeoutSeconds} s; it printed:\n{string.Join('\n', seen)}");
        }
        finally
        {
            if (!follow.HasExited)
            {
                follow.Kill(entireProcessTree: true);
            }

            await follow.WaitForExitAsync();
        }
    }
}
