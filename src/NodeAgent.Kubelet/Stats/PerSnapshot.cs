using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Stats;

/// <summary>
/// A value derived from one stats snapshot (encoded label sets, a rendered document), built once per snapshot and
/// reused by every request until the stats service hands out a newer one.
/// </summary>
internal sealed class PerSnapshot<T>(Func<RuntimeStatsSnapshot, T> build)
    where T : class
{
    private sealed record Entry(RuntimeStatsSnapshot Snapshot, T Value);

    private readonly Lock _building = new();
    private Entry? _entry;

    public T Get(RuntimeStatsSnapshot snapshot)
    {
        var entry = Volatile.Read(ref _entry);
        if (entry is not null && ReferenceEquals(entry.Snapshot, snapshot))
        {
            return entry.Value;
        }

        lock (_building)
        {
            // One build per snapshot even when requests race.
            entry = _entry;
            if (entry is not null && ReferenceEquals(entry.Snapshot, snapshot))
            {
                return entry.Value;
            }

            var value = build(snapshot);
            Volatile.Write(ref _entry, new Entry(snapshot, value));
            return value;
        }
    }
}
