using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.State;

/// <summary>
/// The runtime's sandboxes and containers with their statuses, in memory: lists and status queries read no file.
/// Kept current by the runtime's own operations and the exit tracker; replaced whole by a reload. Not thread-safe:
/// <see cref="LinuxRuntimeService"/> guards it with one monitor held only for in-memory work (and reloads).
/// </summary>
internal sealed class RuntimeView
{
    private readonly Dictionary<string, SandboxRecord> _sandboxes = [];
    private readonly Dictionary<string, (ContainerRecord Record, ContainerStatus Status)> _containers = [];
    private readonly Dictionary<string, HashSet<string>> _bySandbox = [];

    public void Clear()
    {
        _sandboxes.Clear();
        _containers.Clear();
        _bySandbox.Clear();
    }

    public void PutSandbox(SandboxRecord record) => _sandboxes[record.Id] = record;

    public void RemoveSandbox(string id) => _sandboxes.Remove(id);

    public SandboxRecord? Sandbox(string id) => _sandboxes.GetValueOrDefault(id);

    public IEnumerable<SandboxRecord> Sandboxes() => _sandboxes.Values;

    public void PutContainer(ContainerRecord record, ContainerStatus status)
    {
        _containers[record.Id] = (record, status);
        if (!_bySandbox.TryGetValue(record.SandboxId, out var ids))
        {
            _bySandbox[record.SandboxId] = ids = [];
        }

        ids.Add(record.Id);
    }

    public void RemoveContainer(string id)
    {
        if (_containers.Remove(id, out var entry) && _bySandbox.TryGetValue(entry.Record.SandboxId, out var ids))
        {
            ids.Remove(id);
            if (ids.Count == 0)
            {
                _bySandbox.Remove(entry.Record.SandboxId);
            }
        }
    }

    public (ContainerRecord Record, ContainerStatus Status)? Container(string id) =>
        _containers.TryGetValue(id, out var entry) ? entry : null;

    public IEnumerable<(ContainerRecord Record, ContainerStatus Status)> Containers() => _containers.Values;

    /// <summary>Containers matching the filter; a sandbox or container ID narrows the search to an index lookup.</summary>
    public List<ContainerStatus> Containers(ContainerFilter? filter)
    {
        var result = new List<ContainerStatus>();
        if (filter?.Id is { } id)
        {
            if (_containers.TryGetValue(id, out var one) && Matches(one.Status, filter))
            {
                result.Add(one.Status);
            }

            return result;
        }

        if (filter?.PodSandboxId is { } sandboxId)
        {
            if (_bySandbox.TryGetValue(sandboxId, out var ids))
            {
                foreach (var cid in ids)
                {
                    var status = _containers[cid].Status;
                    if (Matches(status, filter))
                    {
                        result.Add(status);
                    }
                }
            }

            return result;
        }

        foreach (var (_, status) in _containers.Values)
        {
            if (filter is null || Matches(status, filter))
            {
                result.Add(status);
            }
        }

        return result;
    }

    public List<PodSandboxStatus> Sandboxes(PodSandboxFilter? filter, Func<SandboxRecord, PodSandboxStatus> toStatus)
    {
        var result = new List<PodSandboxStatus>();
        if (filter?.Id is { } id)
        {
            if (_sandboxes.TryGetValue(id, out var one) && Matches(toStatus(one), filter))
            {
                result.Add(toStatus(one));
            }

            return result;
        }

        foreach (var record in _sandboxes.Values)
        {
            if (filter is null || (LabelsMatch(record.Config.Labels, filter.LabelSelector) && Matches(toStatus(record), filter)))
            {
                result.Add(toStatus(record));
            }
        }

        return result;
    }

    private static bool Matches(ContainerStatus status, ContainerFilter filter) =>
        (filter.Id is null || status.Id == filter.Id)
        && (filter.PodSandboxId is null || status.SandboxId == filter.PodSandboxId)
        && (filter.State is null || status.State == filter.State)
        && LabelsMatch(status.Labels, filter.LabelSelector);

    private static bool Matches(PodSandboxStatus status, PodSandboxFilter filter) =>
        (filter.Id is null || status.Id == filter.Id)
        && (filter.State is null || status.State == filter.State)
        && LabelsMatch(status.Config.Labels, filter.LabelSelector);

    private static bool LabelsMatch(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string>? selector)
    {
        if (selector is null)
        {
            return true;
        }

        foreach (var (key, value) in selector)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }
}
