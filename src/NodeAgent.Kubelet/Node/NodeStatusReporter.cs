using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Cri;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Events;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Patches;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// The node's object in the API server, as kubelet keeps it (<c>kubelet_node_status.go</c>): registration (create, or
/// adopt an existing Node and reconcile its default labels), then every <see cref="UpdateFrequency"/> the status is
/// computed from the host and patched (strategic merge, <c>nodes/NAME/status</c>) only when it changed or
/// <see cref="ReportFrequency"/> has passed. Condition changes are recorded as the node's events (NodeReady,
/// NodeHasSufficientMemory…), and "Starting kubelet." when the agent starts.
/// </summary>
/// <remarks>An API server that is away is retried with backoff (100 ms doubling to 7 s, kubelet's registration
/// backoff); the loop never ends on an error.</remarks>
public sealed partial class NodeStatusReporter(
    KubeApiConnection connection,
    NodeIdentity node,
    NodeRegistration registration,
    NodeStatusSettings settings,
    INodeHostReadings host,
    IImageService images,
    Func<string?> notReady,
    EventRecorder events,
    ILogger<NodeStatusReporter> logger,
    TimeProvider time)
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(7);

    private readonly ResourceClient<V1Node, V1NodeList> _nodes = new(connection, KubeResources.Nodes);
    private readonly TaskCompletionSource<V1Node> _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private NodeMachineInfo? _machine;
    private volatile V1Node? _current;
    private DateTimeOffset _lastReport;
    private Dictionary<string, string>? _reported;

    /// <summary>kubelet's <c>nodeStatusUpdateFrequency</c>.</summary>
    public TimeSpan UpdateFrequency { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>kubelet's node start-up latency gauges; null: not kept.</summary>
    public Reporting.NodeStartupMetrics? Startup { get; init; }

    /// <summary>kubelet's <c>nodeStatusReportFrequency</c>.</summary>
    public TimeSpan ReportFrequency { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Completes with the Node once registered (mirror pods and the Lease need its UID).</summary>
    public Task<V1Node> Registered => _registered.Task;

    /// <summary>The Node as the API server last returned it.</summary>
    public V1Node? Current => _current;

    /// <summary>Asks for a status computation now (readiness changed).</summary>
    public void Poke() => _wake.Writer.TryWrite(true);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        events.Event(EventRecorder.NodeReference(node.Name), "Normal", "Starting", "Starting kubelet.");
        _machine = host.Machine();
        await RegisterAsync(cancellationToken);
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                await UpdateAsync(cancellationToken);
                failures = 0;
                wait = UpdateFrequency;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failures++;
                wait = Backoff(failures);
                LogUpdateFailed(node.Name, Describe(e), wait.TotalSeconds);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(wait);
            try
            {
                await _wake.Reader.WaitToReadAsync(timeout.Token);
                _wake.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        for (var failures = 1; ; failures++)
        {
            try
            {
                var registered = await TryRegisterAsync(cancellationToken);
                _current = registered;
                _registered.TrySetResult(registered);
                LogRegistered(node.Name, registered.Metadata.Uid);
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var wait = Backoff(failures);
                LogRegisterFailed(node.Name, Describe(e), wait.TotalSeconds);
                await Task.Delay(wait, time, cancellationToken);
            }
        }
    }

    private async Task<V1Node> TryRegisterAsync(CancellationToken cancellationToken)
    {
        var labels = NodeRegistration.DefaultLabels(node.Name, _machine!.Architecture);
        if (!registration.RegisterNode)
        {
            return await _nodes.GetAsync(null, node.Name, cancellationToken);
        }

        foreach (var (k, v) in registration.Labels)
        {
            labels[k] = v;
        }

        var wanted = new V1Node
        {
            ApiVersion = "v1",
            Kind = "Node",
            Metadata = new V1ObjectMeta
            {
                Name = node.Name,
                Labels = labels,
                Annotations = new Dictionary<string, string> { [NodeRegistration.AttachDetachAnnotation] = "true" },
            },
            Spec = registration.Taints.Count > 0 ? new V1NodeSpec { Taints = [.. registration.Taints] } : new V1NodeSpec(),
        };
        Startup?.RegistrationAttempted();
        try
        {
            var created = await _nodes.CreateAsync(wanted, cancellationToken);
            Startup?.RegisteredNewNode();
            return created;
        }
        catch (ApiException e) when (e.IsAlreadyExists)
        {
        }

        // Adopt the existing Node (kubelet's tryRegisterWithAPIServer): reconcile the default labels and the
        // attach-detach annotation; other labels and taints belong to whoever set them.
        var existing = await _nodes.GetAsync(null, node.Name, cancellationToken);
        var updated = Copy(existing);
        updated.Metadata.Labels ??= new Dictionary<string, string>();
        updated.Metadata.Annotations ??= new Dictionary<string, string>();
        foreach (var (k, v) in NodeRegistration.DefaultLabels(node.Name, _machine.Architecture))
        {
            updated.Metadata.Labels[k] = v;
        }

        updated.Metadata.Annotations[NodeRegistration.AttachDetachAnnotation] = "true";
        var patch = PatchBuilder.StrategicMerge(existing, updated);
        LogAdopted(node.Name);
        return patch == "{}" ? existing : await _nodes.PatchAsync(null, node.Name, PatchType.StrategicMerge, patch, cancellationToken: cancellationToken);
    }

    private async Task UpdateAsync(CancellationToken cancellationToken)
    {
        var current = _current ?? await _nodes.GetAsync(null, node.Name, cancellationToken);
        var now = time.GetUtcNow();
        var status = NodeStatusBuilder.Build(node, _machine!, host.Read(), settings, images.ListImages(), notReady(), current.Status?.Conditions, now.UtcDateTime);
        if (current.Status is { } old && SameIgnoringHeartbeats(old, status) && now - _lastReport < ReportFrequency)
        {
            return;
        }

        var updated = Copy(current);
        updated.Status = status;
        var patch = PatchBuilder.StrategicMerge(current, updated);
        try
        {
            _current = await _nodes.PatchAsync(null, node.Name, PatchType.StrategicMerge, patch, "status", cancellationToken);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            // Deleted behind our back: kubelet registers again.
            _current = null;
            LogNodeGone(node.Name);
            await RegisterAsync(cancellationToken);
            return;
        }
        catch
        {
            // Read the node again next time: our copy may be what made the patch fail.
            _current = null;
            throw;
        }

        _lastReport = now;
        RecordTransitions(status.Conditions);
    }

    private void RecordTransitions(IList<V1NodeCondition> conditions)
    {
        var reported = conditions.ToDictionary(c => c.Type, c => c.Status, StringComparer.Ordinal);
        foreach (var c in conditions)
        {
            if (_reported is null || !_reported.TryGetValue(c.Type, out var before) || before != c.Status)
            {
                var reason = NodeStatusBuilder.EventReason(c);
                events.Event(EventRecorder.NodeReference(node.Name), "Normal", reason, $"Node {node.Name} status is now: {reason}");
                if (c.Type == "Ready")
                {
                    if (c.Status == "True")
                    {
                        Startup?.NodeReady();
                    }

                    LogReadiness(node.Name, c.Status, c.Message ?? "");
                }
            }
        }

        _reported = reported;
    }

    private static bool SameIgnoringHeartbeats(V1NodeStatus a, V1NodeStatus b) => UnpooledJson.SameJson(WithoutHeartbeats(a), WithoutHeartbeats(b));

    private static V1NodeStatus WithoutHeartbeats(V1NodeStatus s)
    {
        var copy = UnpooledJson.Clone(s);
        foreach (var c in copy.Conditions ?? [])
        {
            c.LastHeartbeatTime = null;
        }

        return copy;
    }

    private static V1Node Copy(V1Node n) => UnpooledJson.Clone(n);

    private static TimeSpan Backoff(int failures) => Agent.RetryDelay.After(failures, InitialBackoff, MaxBackoff);

    private static string Describe(Exception e) => e is ApiException or HttpRequestException ? e.Message : $"{e.GetType().Name}: {e.Message}";

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node} registered with the API server (uid {Uid})")]
    private partial void LogRegistered(string node, string uid);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node} exists in the API server: adopted, default labels reconciled")]
    private partial void LogAdopted(string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: registration failed: {Error}; retrying in {Seconds:0.###} s")]
    private partial void LogRegisterFailed(string node, string error, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node}: status update failed: {Error}; retrying in {Seconds:0.###} s")]
    private partial void LogUpdateFailed(string node, string error, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node {Node} was deleted from the API server: registering it again")]
    private partial void LogNodeGone(string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Node} Ready={Status} {Message}")]
    private partial void LogReadiness(string node, string status, string message);
}
