namespace NodeAgent.Cgroups.Stats;

/// <summary>Per-cgroup values computed once (the absolute paths of its files) and dropped when a sweep finds them unused.</summary>
internal sealed class PathCache<T>
    where T : class
{
    private readonly Dictionary<string, (T Value, int Generation)> _entries = new(StringComparer.Ordinal);
    private int _generation;

    public T Get(string relativePath, Func<string, T> build)
    {
        if (_entries.TryGetValue(relativePath, out var entry))
        {
            if (entry.Generation != _generation)
            {
                _entries[relativePath] = (entry.Value, _generation);
            }

            return entry.Value;
        }

        var value = build(relativePath);
        _entries[relativePath] = (value, _generation);
        return value;
    }

    public void Sweep()
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.Generation != _generation)
            {
                _entries.Remove(key);
            }
        }

        _generation++;
    }
}
