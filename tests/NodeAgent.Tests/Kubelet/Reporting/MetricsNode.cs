using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Node;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Runtime;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Reporting;

/// <summary>
/// The kubelet composed in-process as the agent composes it (<see cref="KubeletHost"/> over the real runtime of a
/// <see cref="RuntimeFixture"/>, a static pod directory of its own) with <see cref="KubeletMetrics"/> on a registry
/// of its own. Every log line is kept (<see cref="Log"/>). Dispose stops the kubelet, then removes every pod,
/// mount, cgroup and directory.
/// </summary>
internal sealed class MetricsNode : IAsyncDisposable
{
    public const string NodeName = "metrics-node";

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    /// <param name="wrap">Wraps the runtime the kubelet is given (a fault injector).</param>
    /// <param name="api">API server mode: the node's connection (the caller disposes it).</param>
    public MetricsNode(Func<IRuntimeService, IRuntimeService>? wrap = null, KubeApiContext? api = null, string name = NodeName)
    {
        Name = name;
        Metrics = new KubeletMetrics(Prometheus.Metrics.NewCustomRegistry(), name, TimeProvider.System);
        var loggers = new SharedLoggerFactory(Log);
        Host = new KubeletHost(
            new KubeletHostOptions
            {
                Config = new KubeletConfiguration { StaticPodPath = Manifests.Path, NodeStatusUpdateFrequency = TimeSpan.FromSeconds(1) },
                Node = new NodeIdentity(name, [IPAddress.Loopback]),
                Api = api,
                RootDir = Rt.Root,
                PodLogDir = Rt.Logs,
                Metrics = Metrics,
            },
            wrap?.Invoke(Rt.Runtime) ?? Rt.Runtime, Rt.ImageService, HostFiles.Instance,
            new LoopSupervisor(loggers.CreateLogger<LoopSupervisor>(), TimeProvider.System), loggers, TimeProvider.System);
        _running = Host.RunAsync(_stop.Token);
    }

    /// <summary>The node's name (static pods are <c>NAME-node</c>).</summary>
    public string Name { get; }

    public RuntimeFixture Rt { get; } = new();

    public TempDir Manifests { get; } = new("nodeagent-manifests");

    public ListLogger<object> Log { get; } = new();

    public KubeletMetrics Metrics { get; }

    public KubeletHost Host { get; }

    /// <summary>A static pod of busybox containers running <c>sleep 3600</c> (and init containers running <c>true</c>).</summary>
    public void WritePod(string name, string[] containers, string[]? initContainers = null)
    {
        var yaml = new StringBuilder($"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: {name}
            spec:
              terminationGracePeriodSeconds: 0

            """);
        if (initContainers is { Length: > 0 })
        {
            yaml.Append("  initContainers:\n");
            foreach (var c in initContainers)
            {
                yaml.Append($"  - name: {c}\n    image: localhost/busybox:latest\n    imagePullPolicy: Never\n    command: [\"true\"]\n");
            }
        }

        yaml.Append("  containers:\n");
        foreach (var c in containers)
        {
            yaml.Append($"  - name: {c}\n    image: localhost/busybox:latest\n    imagePullPolicy: Never\n    command: [\"sleep\", \"3600\"]\n");
        }

        File.WriteAllText(Manifests.Combine(name + ".yaml"), yaml.ToString());
    }

    /// <summary>Waits for the static pod's worker to report it Running.</summary>
    public Task RunningAsync(string name) =>
        Log.WaitForAsync(e => e.Message.Contains($"{name}-{Name}", StringComparison.Ordinal) && e.Message.EndsWith("-> Running", StringComparison.Ordinal),
            TimeSpan.FromSeconds(90), $"pod {name} running");

    /// <summary>One scrape of this node's <c>/metrics</c>.</summary>
    public Task<string> ScrapeAsync() => ScrapeAsync(Metrics);

    /// <summary>One scrape of <c>/metrics</c>, as the kubelet API would serve it.</summary>
    public static async Task<string> ScrapeAsync(KubeletMetrics metrics)
    {
        using var body = new MemoryStream();
        await metrics.Exposition.WriteAsync(body, new Dictionary<string, string>(), CancellationToken.None);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    /// <summary>The value of one sample (<c>name{labels}</c> exactly as exposed); null when absent.</summary>
    public static double? Sample(string text, string series)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Runs the real <c>promtool check metrics</c> on the text; returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> PromtoolAsync(string text)
    {
        var psi = new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(text);
        p.StandardInput.Close();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (p.ExitCode, await stdout + await stderr);
    }

    /// <summary>Stops the kubelet's loops (its pods keep running, as on shutdown).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _stop.Dispose();
            Rt.Dispose();
            Manifests.Dispose();
        }
    }

    /// <summary>Every category's lines into one <see cref="ListLogger{T}"/>.</summary>
    private sealed class SharedLoggerFactory(ILogger logger) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }
    }
}
