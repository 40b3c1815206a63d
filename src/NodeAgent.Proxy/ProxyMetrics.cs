using Prometheus;

namespace NodeAgent.Proxy;

/// <summary>
/// kube-proxy's sync metrics under its names and buckets (exponential from 1 ms, doubling, 15 buckets), in a registry
/// the caller owns (never prometheus-net's static default): durations of every, full and partial sync, the network
/// programming latency (an EndpointSlice's <c>endpoints.kubernetes.io/last-change-trigger-time</c> to the sync that
/// programmed it), the time of the last successful sync, and the rules of the last restore per table.
/// </summary>
public sealed class ProxyMetrics
{
    private readonly Histogram _sync, _full, _partial, _programming;
    private readonly Gauge _lastSync, _rules;

    public ProxyMetrics(CollectorRegistry registry)
    {
        Registry = registry;
        var factory = Metrics.WithCustomRegistry(registry);
        var buckets = new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) };
        _sync = factory.CreateHistogram("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds", buckets);
        _full = factory.CreateHistogram("kubeproxy_sync_full_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for full resyncs", buckets);
        _partial = factory.CreateHistogram("kubeproxy_sync_partial_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds for partial resyncs", buckets);
        _programming = factory.CreateHistogram("kubeproxy_network_programming_duration_seconds", "In Cluster Network Programming Latency in seconds",
            new HistogramConfiguration { Buckets = [.. Histogram.LinearBuckets(0.25, 0.25, 2), .. Histogram.LinearBuckets(1, 1, 59), .. Histogram.LinearBuckets(60, 5, 12), .. Histogram.LinearBuckets(120, 30, 7)] });
        _lastSync = factory.CreateGauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "The last time proxy rules were successfully synced");
        _rules = factory.CreateGauge("kubeproxy_sync_proxy_rules_iptables_total", "Total number of iptables rules owned by kube-proxy",
            new GaugeConfiguration { LabelNames = ["table"] });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>A sync that succeeded, and how long it took.</summary>
    public void Synced(bool full, TimeSpan duration, DateTimeOffset now)
    {
        _sync.Observe(duration.TotalSeconds);
        (full ? _full : _partial).Observe(duration.TotalSeconds);
        _lastSync.Set(now.ToUnixTimeMilliseconds() / 1000.0);
    }

    public void Programmed(TimeSpan latency) => _programming.Observe(Math.Max(0, latency.TotalSeconds));

    public void Rules(string table, int count) => _rules.WithLabels(table).Set(count);

    /// <summary>The exposition text (for the metrics address).</summary>
    public async Task WriteAsync(Stream stream, CancellationToken cancellationToken) =>
        await Registry.CollectAndExportAsTextAsync(stream, cancellationToken);
}
