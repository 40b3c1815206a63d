using System.Globalization;
using System.Text;
using System.Text.Json;
using k8s.Models;

namespace NodeAgent.Proxy;

/// <summary>
/// kube-proxy's health (its ProxyHealthServer state): a change queued and not programmed within the health timeout
/// (kube-proxy: twice the sync period) makes the proxy unhealthy; a proxy that has not synced yet is healthy.
/// <c>/healthz</c> also needs the node to be eligible (known, not being deleted, not tainted
/// <c>ToBeDeletedByClusterAutoscaler</c>); <c>/livez</c> does not. Bodies are kube-proxy's JSON.
/// </summary>
public sealed class ProxyHealth(TimeSpan healthTimeout, TimeProvider? time = null)
{
    public const string ToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private DateTimeOffset? _lastUpdated, _oldestQueued;

    /// <summary>The node object (null until known), for <c>/healthz</c>'s node eligibility.</summary>
    public Func<V1Node?> Node { get; set; } = () => null;

    /// <summary>A change that needs programming was received.</summary>
    public void QueuedUpdate()
    {
        lock (_lock)
        {
            _oldestQueued ??= _time.GetUtcNow();
        }
    }

    /// <summary>A sync programmed everything queued before it.</summary>
    public void Updated()
    {
        lock (_lock)
        {
            _oldestQueued = null;
            _lastUpdated = _time.GetUtcNow();
        }
    }

    public bool NodeEligible()
    {
        var node = Node();
        return node is not null && node.Metadata?.DeletionTimestamp is null &&
            !(node.Spec?.Taints ?? []).Any(t => t.Key == ToBeDeletedTaint);
    }

    /// <summary>Status code and body of <c>/healthz</c> (<paramref name="livez"/> false) or <c>/livez</c>.</summary>
    public (int Status, string Body) Answer(bool livez)
    {
        DateTimeOffset? lastUpdated;
        bool healthy;
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            lastUpdated = _lastUpdated;
            healthy = _lastUpdated is null || _oldestQueued is null || now - _oldestQueued.Value < healthTimeout;
        }
        bool? eligible = livez ? null : NodeEligible();
        var ok = healthy && eligible != false;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            // A healthy proxy reports "now" as its last update, as kube-proxy does for compatibility.
            json.WriteString("lastUpdated", GoTime(ok ? now : lastUpdated));
            json.WriteString("currentTime", GoTime(now));
            if (eligible is { } e)
            {
                json.WriteBoolean("nodeEligible", e);
            }
            json.WriteBoolean("healthy", healthy);
            if (lastUpdated is { } last)
            {
                json.WriteStartObject("status");
                json.WriteStartObject("IPv4");
                json.WriteString("lastUpdated", GoTime(last));
                json.WriteBoolean("healthy", healthy);
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return (ok ? 200 : 503, Encoding.UTF8.GetString(buffer.ToArray()));
    }

    /// <summary>A time as Go's JSON encoding prints it (RFC 3339 with trailing zeros of the fraction cut; the zero
    /// time for "never").</summary>
    internal static string GoTime(DateTimeOffset? t) =>
        t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture) : "0001-01-01T00:00:00Z";
}
