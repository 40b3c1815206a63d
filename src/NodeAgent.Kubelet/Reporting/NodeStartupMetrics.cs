using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's node start-up latency tracker: <c>kubelet_node_startup_duration_seconds</c> and its parts before the
/// kubelet (boot to start), before registration, registration, and after registration (to the first Ready), set
/// once when the node first turns Ready after registering a new Node, as kubelet does (an adopted Node sets none).
/// The boot time comes from the monotonic clock's uptime.
/// </summary>
public sealed class NodeStartupMetrics
{
    private readonly Gauge _preKubelet, _preRegistration, _registration, _postRegistration, _total;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly DateTimeOffset _boot, _kubeletStart;
    private DateTimeOffset? _firstAttempt, _registered;
    private bool _ready;

    public NodeStartupMetrics(IMetricFactory factory, TimeProvider time, TimeSpan uptime)
    {
        _time = time;
        _kubeletStart = time.GetUtcNow();
        _boot = _kubeletStart - uptime;
        _preKubelet = factory.CreateGauge("kubelet_node_startup_pre_kubelet_duration_seconds", MetricHelp.Alpha("Duration in seconds of node startup before kubelet starts."));
        _preRegistration = factory.CreateGauge("kubelet_node_startup_pre_registration_duration_seconds", MetricHelp.Alpha("Duration in seconds of node startup before registration."));
        _registration = factory.CreateGauge("kubelet_node_startup_registration_duration_seconds", MetricHelp.Alpha("Duration in seconds of node startup during registration."));
        _postRegistration = factory.CreateGauge("kubelet_node_startup_post_registration_duration_seconds", MetricHelp.Alpha("Duration in seconds of node startup after registration."));
        _total = factory.CreateGauge("kubelet_node_startup_duration_seconds", MetricHelp.Alpha("Duration in seconds of node startup in total."));
    }

    /// <summary>The first attempt to register the Node.</summary>
    public void RegistrationAttempted()
    {
        lock (_lock)
        {
            _firstAttempt ??= _time.GetUtcNow();
        }
    }

    /// <summary>A new Node was created (not adopted).</summary>
    public void RegisteredNewNode()
    {
        lock (_lock)
        {
            _registered ??= _time.GetUtcNow();
        }
    }

    /// <summary>The Node's Ready condition turned True: the gauges are set the first time after a registration.</summary>
    public void NodeReady()
    {
        lock (_lock)
        {
            if (_ready || _registered is not { } registered || _firstAttempt is not { } attempt)
            {
                return;
            }

            _ready = true;
            var ready = _time.GetUtcNow();
            _preKubelet.Set((_kubeletStart - _boot).TotalSeconds);
            _preRegistration.Set((attempt - _kubeletStart).TotalSeconds);
            _registration.Set((registered - attempt).TotalSeconds);
            _postRegistration.Set((ready - registered).TotalSeconds);
            _total.Set((ready - _boot).TotalSeconds);
        }
    }
}
