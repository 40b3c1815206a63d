using System.Collections.Concurrent;
using System.Globalization;
using k8s.Models;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Reporting;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// Where each pod's start went (<see cref="PodStartPhases"/>), measured by the pod worker and the syncer as they do
/// the work, from the pod being seen to its first Ready. Only a start whose sandbox the kubelet creates is tracked: a
/// pod found running (after an agent restart) is not a start. Feeds <c>nodeagent_pod_start_phase_duration_seconds</c>,
/// kubelet's <c>pod_start_duration_seconds</c> and <c>pod_start_sli_duration_seconds</c> (once per start), the
/// breakdown of the <c>Started</c> events of the start, and the annotation on the read-only API's copy of the pod.
/// </summary>
/// <remarks>Calls for one pod come from its worker, one at a time; readers (the API) may ask at any time.</remarks>
public sealed class PodStartTracker(TimeProvider time, KubeletPodMetrics? metrics = null)
{
    private readonly ConcurrentDictionary<string, Start> _starts = new(StringComparer.Ordinal);

    /// <summary>Pods with a start kept (for tests of churn: zero once every pod is forgotten).</summary>
    internal int Count => _starts.Count;

    /// <summary>The pod's worker started: its start is measured from when pod config first saw it
    /// (<c>kubernetes.io/config.seen</c>; now when that is missing, unreadable or in the future).</summary>
    public void Seen(V1Pod pod)
    {
        var now = time.GetUtcNow();
        var seen = pod.Metadata?.Annotations?.TryGetValue(ConfigAnnotations.Seen, out var text) == true
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at <= now
            ? at : now;
        var created = pod.Metadata?.CreationTimestamp is { } c && c <= now.UtcDateTime ? new DateTimeOffset(DateTime.SpecifyKind(c, DateTimeKind.Utc)) : (DateTimeOffset?)null;
        _starts[pod.Metadata?.Uid ?? ""] = new Start(seen, created);
    }

    /// <summary>A sync of the pod begins. The first one decides: a ready sandbox means the pod was already running
    /// (not a start); otherwise admission ends here and the start is tracked.</summary>
    public void SyncBegins(string uid, bool sandboxReady)
    {
        if (!_starts.TryGetValue(uid, out var s))
        {
            return;
        }

        lock (s)
        {
            if (s.State != StartState.Seen)
            {
                return;
            }

            if (sandboxReady)
            {
                s.State = StartState.Adopted;
                return;
            }

            s.State = StartState.Tracking;
            var admission = time.GetUtcNow() - s.Seen;
            s.Phases[PodStartPhases.Admission] = admission < TimeSpan.Zero ? TimeSpan.Zero : admission;
            metrics?.Phase(PodStartPhases.Admission, s.Phases[PodStartPhases.Admission]);
        }
    }

    /// <summary>Adds time spent in <paramref name="phase"/> since <paramref name="startedAt"/> (a
    /// <see cref="TimeProvider.GetTimestamp"/>) to the pod's start, and to the container's when one is named.</summary>
    public void Add(string uid, string phase, long startedAt, string? container = null)
    {
        if (!_starts.TryGetValue(uid, out var s))
        {
            return;
        }

        var elapsed = time.GetElapsedTime(startedAt);
        lock (s)
        {
            if (s.State != StartState.Tracking)
            {
                return;
            }

            s.Phases[phase] = s.Phases.GetValueOrDefault(phase) + elapsed;
            if (container is not null)
            {
                var phases = s.Containers.TryGetValue(container, out var p) ? p : s.Containers[container] = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
                phases[phase] = phases.GetValueOrDefault(phase) + elapsed;
            }
        }
    }

    /// <summary>The pod's sandbox is up: the sandbox phase is final.</summary>
    public void SandboxReady(string uid)
    {
        if (_starts.TryGetValue(uid, out var s))
        {
            lock (s)
            {
                if (s.State == StartState.Tracking && s.Phases.TryGetValue(PodStartPhases.Sandbox, out var d))
                {
                    metrics?.Phase(PodStartPhases.Sandbox, d);
                }
            }
        }
    }

    /// <summary>A container of the pod started. Returns the breakdown for its <c>Started</c> event while the pod's
    /// start is tracked (<c>(admission 1.2ms, image_pull 310µs, sandbox 84ms, container_create 31ms,
    /// container_start 20ms)</c>: the pod's admission and sandbox, the container's own other phases); null otherwise,
    /// so a restarted container's event keeps kubelet's text alone and repeats are counted as one.</summary>
    public string? ContainerStarted(string uid, string container)
    {
        if (!_starts.TryGetValue(uid, out var s))
        {
            return null;
        }

        lock (s)
        {
            if (s.State != StartState.Tracking)
            {
                return null;
            }

            s.LastContainerStarted = time.GetTimestamp();
            var own = s.Containers.GetValueOrDefault(container);
            var parts = new List<string>();
            foreach (var phase in PodStartPhases.All)
            {
                var d = phase is PodStartPhases.Admission or PodStartPhases.Sandbox ? s.Phases.GetValueOrDefault(phase, TimeSpan.MinValue)
                    : own?.GetValueOrDefault(phase, TimeSpan.MinValue) ?? TimeSpan.MinValue;
                if (d != TimeSpan.MinValue)
                {
                    parts.Add($"{phase} {PodStartPhases.Human(d)}");
                }
            }

            return "(" + string.Join(", ", parts) + ")";
        }
    }

    /// <summary>The pod's status was published: Running for the first time observes kubelet's start durations, Ready
    /// for the first time (or an end before it) completes the start and observes its phases.</summary>
    public void StatusPublished(string uid, V1PodStatus status)
    {
        if (!_starts.TryGetValue(uid, out var s))
        {
            return;
        }

        lock (s)
        {
            if (s.State != StartState.Tracking)
            {
                return;
            }

            var now = time.GetUtcNow();
            if (status.Phase == "Running" && !s.RunningSeen)
            {
                s.RunningSeen = true;
                metrics?.PodStarted(now - s.Seen);
                // kubelet's SLI: from creation, without image pulling (init containers' run time is not taken out here).
                metrics?.PodStartSli(now - (s.Created ?? s.Seen) - s.Phases.GetValueOrDefault(PodStartPhases.ImagePull));
            }

            var ready = status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
            if (ready && s.LastContainerStarted is { } started)
            {
                s.Phases[PodStartPhases.FirstReady] = time.GetElapsedTime(started);
            }

            if (ready || status.Phase is "Succeeded" or "Failed")
            {
                s.State = StartState.Complete;
                foreach (var phase in new[] { PodStartPhases.ImagePull, PodStartPhases.ContainerCreate, PodStartPhases.ContainerStart, PodStartPhases.FirstReady })
                {
                    if (s.Phases.TryGetValue(phase, out var d))
                    {
                        metrics?.Phase(phase, d);
                    }
                }
            }
        }
    }

    /// <summary>The annotation value for the pod (<see cref="PodStartPhases.Format"/>), or null when its start is not
    /// tracked.</summary>
    public string? Annotation(string uid)
    {
        if (!_starts.TryGetValue(uid, out var s))
        {
            return null;
        }

        lock (s)
        {
            if (s.State is not (StartState.Tracking or StartState.Complete) || s.Phases.Count == 0)
            {
                return null;
            }

            return PodStartPhases.Format(PodStartPhases.All.Where(s.Phases.ContainsKey).Select(p => KeyValuePair.Create(p, s.Phases[p])));
        }
    }

    public void Forget(string uid) => _starts.TryRemove(uid, out _);

    private enum StartState { Seen, Tracking, Adopted, Complete }

    private sealed class Start(DateTimeOffset seen, DateTimeOffset? created)
    {
        public DateTimeOffset Seen { get; } = seen;

        public DateTimeOffset? Created { get; } = created;

        public StartState State { get; set; }

        public bool RunningSeen { get; set; }

        public long? LastContainerStarted { get; set; }

        public Dictionary<string, TimeSpan> Phases { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Dictionary<string, TimeSpan>> Containers { get; } = new(StringComparer.Ordinal);
    }
}
