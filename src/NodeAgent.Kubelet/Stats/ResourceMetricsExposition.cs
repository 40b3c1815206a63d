using NodeAgent.Cri;
using NodeAgent.Kubelet.Reporting;

namespace NodeAgent.Kubelet.Stats;

/// <summary>
/// <c>/metrics/resource</c> as kubelet's resource metrics collector writes it and metrics-server parses it:
/// node, pod and container CPU (core-seconds) and working set, container start times, and
/// <c>resource_scrape_error</c>; every reading with its timestamp in milliseconds; families sorted by name.
/// </summary>
public sealed class ResourceMetricsExposition(IRuntimeStats stats) : IHttpExposition
{
    private readonly PerSnapshot<List<(byte[] Labels, ContainerStats Stats)>> _containers = new(ContainerLabels);
    private readonly PerSnapshot<List<(byte[] Labels, PodSandboxStats Stats)>> _pods = new(PodLabels);

    public string Path => "/metrics/resource";

    public string Subresource => "metrics";

    public string ContentType => "text/plain; version=0.0.4; charset=utf-8";

    public async Task WriteAsync(Stream body, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        var snapshot = await stats.SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var containers = _containers.Get(snapshot);
        var pods = _pods.Get(snapshot);
        long nodeTs = snapshot.Timestamp.ToUnixTimeMilliseconds();
        using var w = new MetricsTextWriter(body);

        w.Family("container_cpu_usage_seconds_total"u8, "[STABLE] Cumulative cpu time consumed by the container in core-seconds"u8, "counter"u8);
        foreach (var (labels, c) in containers)
        {
            Sample(w, "container_cpu_usage_seconds_total"u8, labels, c.Cpu.UsageNanos / 1e9, c.Timestamp);
        }

        w.Family("container_memory_working_set_bytes"u8, "[STABLE] Current working set of the container in bytes"u8, "gauge"u8);
        foreach (var (labels, c) in containers)
        {
            Sample(w, "container_memory_working_set_bytes"u8, labels, c.Memory.WorkingSetBytes, c.Timestamp);
        }

        await w.FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        w.Family("container_start_time_seconds"u8, "[STABLE] Start time of the container since unix epoch in seconds"u8, "gauge"u8);
        foreach (var (labels, c) in containers)
        {
            // As kubelet: the start time is its own timestamp, so the sample carries none.
            w.Raw("container_start_time_seconds"u8);
            w.Raw(labels);
            w.Value(c.StartedAt.ToUnixTimeMilliseconds() / 1000.0);
            w.End(null);
        }

        w.Family("node_cpu_usage_seconds_total"u8, "[STABLE] Cumulative cpu time consumed by the node in core-seconds"u8, "counter"u8);
        w.Raw("node_cpu_usage_seconds_total"u8);
        w.Value(snapshot.Node.Cpu.UsageNanos / 1e9);
        w.End(nodeTs);
        w.Family("node_memory_working_set_bytes"u8, "[STABLE] Current working set of the node in bytes"u8, "gauge"u8);
        w.Raw("node_memory_working_set_bytes"u8);
        w.Value(snapshot.Node.Memory.WorkingSetBytes);
        w.End(nodeTs);

        w.Family("pod_cpu_usage_seconds_total"u8, "[STABLE] Cumulative cpu time consumed by the pod in core-seconds"u8, "counter"u8);
        foreach (var (labels, p) in pods)
        {
            Sample(w, "pod_cpu_usage_seconds_total"u8, labels, p.Cpu.UsageNanos / 1e9, p.Timestamp);
        }

        w.Family("pod_memory_working_set_bytes"u8, "[STABLE] Current working set of the pod in bytes"u8, "gauge"u8);
        foreach (var (labels, p) in pods)
        {
            Sample(w, "pod_memory_working_set_bytes"u8, labels, p.Memory.WorkingSetBytes, p.Timestamp);
        }

        // Current kubelet's name (before 1.29 it was scrape_error); metrics-server reads neither.
        w.Family("resource_scrape_error"u8, "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise"u8, "gauge"u8);
        w.Raw("resource_scrape_error"u8);
        w.Value(snapshot.Errors.Count > 0 ? 1UL : 0UL);
        w.End(null);
        await w.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Sample(MetricsTextWriter w, ReadOnlySpan<byte> name, byte[] labels, double value, DateTimeOffset at)
    {
        w.Raw(name);
        w.Raw(labels);
        w.Value(value);
        w.End(at.ToUnixTimeMilliseconds());
    }

    private static void Sample(MetricsTextWriter w, ReadOnlySpan<byte> name, byte[] labels, ulong value, DateTimeOffset at)
    {
        w.Raw(name);
        w.Raw(labels);
        w.Value(value);
        w.End(at.ToUnixTimeMilliseconds());
    }

    /// <summary><c>{container="…",namespace="…",pod="…"}</c> per container, encoded once per snapshot.</summary>
    private static List<(byte[], ContainerStats)> ContainerLabels(RuntimeStatsSnapshot snapshot)
    {
        var pods = snapshot.Pods.ToDictionary(p => p.Id, StringComparer.Ordinal);
        var list = new List<(byte[], ContainerStats)>(snapshot.Containers.Count);
        foreach (var c in snapshot.Containers)
        {
            if (pods.TryGetValue(c.SandboxId, out var pod))
            {
                list.Add(([(byte)'{', .. MetricsTextWriter.Encode("container", c.Name), (byte)',', .. MetricsTextWriter.Encode("namespace", pod.Namespace),
                    (byte)',', .. MetricsTextWriter.Encode("pod", pod.Name), (byte)'}'], c));
            }
        }

        return list;
    }

    private static List<(byte[], PodSandboxStats)> PodLabels(RuntimeStatsSnapshot snapshot) =>
        snapshot.Pods.Select(p => ((byte[])[(byte)'{', .. MetricsTextWriter.Encode("namespace", p.Namespace), (byte)',', .. MetricsTextWriter.Encode("pod", p.Name), (byte)'}'], p)).ToList();
}
