using NodeAgent.Cri;
using NodeAgent.Kubelet.Reporting;

namespace NodeAgent.Kubelet.Stats;

/// <summary>
/// <c>/metrics/cadvisor</c>: cAdvisor's families, HELP texts and labels (<c>container</c>, <c>id</c>, <c>image</c>,
/// <c>name</c>, <c>namespace</c>, <c>pod</c>, plus <c>cpu</c>, <c>device</c>, <c>interface</c>) as kubelet's embedded
/// cAdvisor shows them with a CRI runtime: the machine's root cgroup (<c>id="/"</c>), each pod cgroup
/// (<c>container=""</c>, <c>name=""</c>, with the sandbox's network interfaces) and each running container
/// (<c>name</c> = its ID). Samples carry the reading's timestamp in milliseconds.
/// </summary>
public sealed class CadvisorExposition(IRuntimeStats stats) : IHttpExposition
{
    private static readonly CadvisorFamily[] Families = CadvisorFamily.All;
    private readonly PerSnapshot<List<CadvisorSeries>> _series = new(Build);

    public string Path => "/metrics/cadvisor";

    public string Subresource => "metrics";

    public string ContentType => "text/plain; version=0.0.4; charset=utf-8";

    public async Task WriteAsync(Stream body, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken)
    {
        var snapshot = await stats.SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var series = _series.Get(snapshot);
        using var w = new MetricsTextWriter(body);
        foreach (var family in Families)
        {
            family.Write(w, snapshot, series);
            await w.FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        }

        await w.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static List<CadvisorSeries> Build(RuntimeStatsSnapshot snapshot)
    {
        var list = new List<CadvisorSeries>(1 + snapshot.Pods.Count + snapshot.Containers.Count);
        long ts = snapshot.Timestamp.ToUnixTimeMilliseconds();
        byte[] noName = MetricsTextWriter.Encode("container", "");
        list.Add(new CadvisorSeries
        {
            Container = noName,
            IdImage = Pair("id", "/", "image", ""),
            NameNamespacePod = Triple("", "", ""),
            Cpu = snapshot.Node.Cpu,
            Memory = snapshot.Node.Memory,
            Network = snapshot.Node.Network,
            StartTimeSeconds = Seconds(snapshot.Node.BootTime),
            TimestampMs = ts,
        });

        var pods = new Dictionary<string, PodSandboxStats>(StringComparer.Ordinal);
        foreach (var pod in snapshot.Pods)
        {
            pods[pod.Id] = pod;
            list.Add(new CadvisorSeries
            {
                Container = noName,
                IdImage = Pair("id", pod.CgroupName, "image", ""),
                NameNamespacePod = Triple("", pod.Namespace, pod.Name),
                Cpu = pod.Cpu,
                Memory = pod.Memory,
                Network = pod.Network,
                DiskIo = pod.DiskIo,
                Processes = pod.Processes,
                Threads = pod.Threads,
                StartTimeSeconds = Seconds(pod.CreatedAt),
                Limits = pod.Limits,
                TimestampMs = pod.Timestamp.ToUnixTimeMilliseconds(),
            });
        }

        foreach (var c in snapshot.Containers)
        {
            if (!pods.TryGetValue(c.SandboxId, out var pod))
            {
                continue;
            }

            list.Add(new CadvisorSeries
            {
                Container = MetricsTextWriter.Encode("container", c.Name),
                IdImage = Pair("id", c.CgroupName, "image", c.Image),
                NameNamespacePod = Triple(c.Id, pod.Namespace, pod.Name),
                Cpu = c.Cpu,
                Memory = c.Memory,
                DiskIo = c.DiskIo,
                Fs = c.WritableLayer,
                Processes = c.Processes,
                Threads = c.Threads,
                StartTimeSeconds = Seconds(c.StartedAt),
                Limits = c.Limits,
                TimestampMs = c.Timestamp.ToUnixTimeMilliseconds(),
            });
        }

        return list;
    }

    private static double Seconds(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    private static byte[] Pair(string n1, string v1, string n2, string v2) =>
        [.. MetricsTextWriter.Encode(n1, v1), (byte)',', .. MetricsTextWriter.Encode(n2, v2)];

    private static byte[] Triple(string name, string ns, string pod) =>
        [.. MetricsTextWriter.Encode("name", name), (byte)',', .. MetricsTextWriter.Encode("namespace", ns), (byte)',', .. MetricsTextWriter.Encode("pod", pod)];
}
