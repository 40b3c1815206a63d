using System.Diagnostics;
using k8s;
using k8s.Models;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// The real <c>nodeagent agent</c> daemon on a fixture's root, with its log read line by line so tests wait for
/// what it reports (an event, a pod removal) instead of sleeping, and its read-only API on a free loopback port.
/// </summary>
public sealed class AgentProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _lock = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Done)> _waiters = [];
    private readonly Task _reader;
    private readonly Task _errReader;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly RuntimeFixture _rt;
    private readonly string? _netns;

    private AgentProcess(Process process, int port, int apiPort, int healthzPort, RuntimeFixture rt, string? netns)
    {
        _process = process;
        Port = port;
        ApiPort = apiPort;
        HealthzPort = healthzPort;
        _rt = rt;
        _netns = netns;
        _reader = Task.Run(() => ReadAsync(process.StandardOutput));
        _errReader = Task.Run(() => ReadAsync(process.StandardError));
    }

    public int Port { get; }

    /// <summary>The kubelet API's HTTPS port (<c>--port</c>; a free one unless the test gave one).</summary>
    public int ApiPort { get; }

    /// <summary>The healthz port (<c>--healthz-port</c>; a free one unless the test gave one).</summary>
    public int HealthzPort { get; }

    /// <summary>The daemon's process ID (inside a network namespace too: nsenter execs it).</summary>
    public int Pid => _process.Id;

    /// <summary>The daemon's resident set size now, from /proc (VmRSS), in KiB.</summary>
    public long RssKiB() => ProcStatusKiB("VmRSS");

    /// <summary>A memory field of <c>/proc/PID/status</c> (VmRSS, VmHWM…), in KiB.</summary>
    public long ProcStatusKiB(string field)
    {
        var line = File.ReadLines($"/proc/{Pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    public string Server => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lock)
            {
                return _lines.ToList();
            }
        }
    }

    /// <summary>Starts the agent and waits until its read-only API answers.</summary>
    public static Task<AgentProcess> StartAsync(RuntimeFixture rt, string manifestDir, params string[] extra) => StartInAsync(null, rt, manifestDir, extra);

    /// <summary>Starts the agent inside a network namespace the test made (its pod network lives there too).</summary>
    public static Task<AgentProcess> StartInAsync(string? netns, RuntimeFixture rt, string manifestDir, params string[] extra) =>
        StartConfiguredAsync(netns, rt, manifestDir, null, extra);

    /// <summary>As <see cref="StartInAsync"/>, with a last change to the process start info (environment, a wrapper).</summary>
    public static async Task<AgentProcess> StartConfiguredAsync(string? netns, RuntimeFixture rt, string manifestDir,
        Action<ProcessStartInfo>? configure, params string[] extra)
    {
        var agent = Launch(netns, rt, manifestDir, configure, extra);
        await agent.WaitForLogAsync(l => l.Contains("read-only API listening", StringComparison.Ordinal));
        return agent;
    }

    /// <summary>Starts the agent without waiting for anything (a test that stops it while it starts).</summary>
    public static AgentProcess Launch(string? netns, RuntimeFixture rt, string manifestDir, Action<ProcessStartInfo>? configure, params string[] extra)
    {
        var port = LoopbackHttpServer.FreePort();
        string[] args = ["agent", "--pod-manifest-path", manifestDir, "--hostname-override", "node1", "--node-ip", "192.0.2.10",
            "--read-only-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--address", "127.0.0.1", .. extra];

        // Each agent gets ports of its own for the kubelet API and healthz (10250 and 10248 may be taken, and tests
        // run agents side by side).
        int PortOf(string flag)
        {
            var i = Array.IndexOf(extra, flag);
            if (i >= 0 && i + 1 < extra.Length)
            {
                return int.Parse(extra[i + 1], System.Globalization.CultureInfo.InvariantCulture);
            }

            var free = LoopbackHttpServer.FreePort();
            args = [.. args, flag, free.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            return free;
        }

        var apiPort = PortOf("--port");
        var healthzPort = PortOf("--healthz-port");
        if (!extra.Contains("--network-plugin"))
        {
            // Pod networking lives on the host by default; these tests must not touch it (tests that need a pod
            // network pass one placed in a namespace of their own).
            args = [.. args, "--network-plugin", "none"];
        }

        return new AgentProcess(CliProcess.StartIn(netns, rt, configure, args), port, apiPort, healthzPort, rt, netns);
    }

    /// <summary>Completes with the first log line (past or future) that matches.</summary>
    public Task<string> WaitForLogAsync(Func<string, bool> match, int timeoutSeconds = 60)
    {
        var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            if (_lines.FirstOrDefault(match) is { } line)
            {
                return Task.FromResult(line);
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(TimeSpan.FromSeconds(timeoutSeconds)).ContinueWith(t => t.IsFaulted
            ? throw new TimeoutException($"no log line matched within {timeoutSeconds}s; the agent said:\n{string.Join('\n', Lines)}")
            : t.Result, TaskScheduler.Default);
    }

    /// <summary>Waits for a pod event (<c>event pod=default/NAME … reason=REASON</c>) after <paramref name="skip"/> earlier ones.</summary>
    public Task<string> WaitForEventAsync(string pod, string reason, int occurrence = 1, int timeoutSeconds = 60)
    {
        var seen = 0;
        var key = $"event pod=default/{pod} ";
        var reasonKey = $" reason={reason}:";
        return WaitForLogAsync(l => l.Contains(key, StringComparison.Ordinal) && l.Contains(reasonKey, StringComparison.Ordinal) && ++seen == occurrence, timeoutSeconds);
    }

    /// <summary>Waits for the pod's phase-change line (<c>pod NAME_default(UID): phase A -> PHASE</c>), the
    /// <paramref name="occurrence"/>-th one.</summary>
    public Task<string> WaitForPhaseAsync(string pod, string phase, int occurrence = 1, int timeoutSeconds = 60)
    {
        var seen = 0;
        return WaitForLogAsync(l => l.Contains($"pod {pod}_default(", StringComparison.Ordinal) && l.EndsWith($"-> {phase}", StringComparison.Ordinal) && ++seen == occurrence, timeoutSeconds);
    }

    public int Count(Func<string, bool> match) => Lines.Count(match);

    public async Task<IList<V1Pod>> PodsAsync()
    {
        // Inside a namespace the API is reachable only from there: ask through `nodeagent get pods -o json`.
        var body = _netns is null
            ? await _http.GetStringAsync($"{Server}/pods")
            : await CliProcess.RunInAsync(_netns, _rt, "get", "pods", "-A", "-o", "json", "--server", Server);
        return KubernetesJson.Deserialize<V1PodList>(body).Items;
    }

    /// <summary>Reads /pods until the pod satisfies <paramref name="condition"/> (its status changes on its own
    /// schedule); the pod then.</summary>
    public async Task<V1Pod> WaitPodAsync(string name, Func<V1Pod, bool> condition, int timeoutSeconds = 90)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        V1Pod? last = null;
        while (!deadline.IsCancellationRequested)
        {
            last = await PodAsync(name);
            if (last?.Status is not null && condition(last))
            {
                return last;
            }
            await Task.Delay(200, CancellationToken.None);
        }
        throw new TimeoutException($"pod {name}: condition not met within {timeoutSeconds} s; last status: {KubernetesJson.Serialize(last?.Status)}");
    }

    public async Task<V1Pod?> PodAsync(string name) => (await PodsAsync()).SingleOrDefault(p => p.Metadata.Name == name);

    /// <summary>GET on the read-only API: the status code and the body, whatever the status.</summary>
    public async Task<(int Status, string Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync($"{Server}{path}");
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<bool> HealthyAsync() => await _http.GetStringAsync($"{Server}/healthz") == "ok";

    public void Kill() => _process.Kill();

    /// <summary>SIGTERM, as systemd stops it; returns the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            NodeAgent.Linux.ProcessControl.Kill(_process.Id, 15);
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            await Task.WhenAll(_reader, _errReader);
        }
        finally
        {
            _process.Dispose();
            _http.Dispose();
        }
    }

    private async Task ReadAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lock)
            {
                _lines.Add(line);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(line))
                    {
                        _waiters[i].Done.TrySetResult(line);
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }
    }
}
