using System.Globalization;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// Merges the sources' snapshots into operations, as kubelet's <c>config/config.go</c> <c>podStorage</c> in
/// incremental mode. Sources write full snapshots to <see cref="Input"/>; <see cref="RunAsync"/> compares each with
/// that source's previous pods (keyed by UID) and writes to <see cref="Updates"/>, in this order and only when
/// non-empty: REMOVE (pods gone from the snapshot), ADD (new UIDs), UPDATE (spec, labels, non-local annotations or
/// generation changed), DELETE (deletionTimestamp set), RECONCILE (only the status changed).
/// </summary>
/// <remarks>
/// <para>Static pods get their UID from the hash of their manifest, so an edited manifest is a new pod: REMOVE of the
/// old UID then ADD of the new one, exactly as kubelet does. UPDATE and RECONCILE only happen for pods whose
/// manifest sets <c>metadata.uid</c> (and, later, for API server pods).</para>
/// <para>Each source's pods flow as soon as it sends them, as with kubelet (static pods start while the API server
/// is still away). A source's first snapshot is one ADD, possibly empty, which tells the consumer that the source is
/// ready; <see cref="SeenAllSources"/> then gates only the cleanup of pods nobody wants. A source that fails keeps
/// its last snapshot simply by not sending a new one.</para>
/// <para>Pods written to <see cref="Updates"/> are copies owned by pod config and never modified afterwards; each
/// operation lists them sorted by namespace, name and UID. Pods gain <c>kubernetes.io/config.source</c> and, when
/// first seen, <c>kubernetes.io/config.seen</c> (RFC3339Nano, UTC, from the injected <see cref="TimeProvider"/>).</para>
/// </remarks>
public sealed class PodConfig
{
    private readonly string[] _sources;
    private readonly Dictionary<string, Dictionary<string, V1Pod>> _pods = new(StringComparer.Ordinal);
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly Channel<PodSourceUpdate> _input = Channel.CreateUnbounded<PodSourceUpdate>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<PodUpdate> _updates = Channel.CreateUnbounded<PodUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _allSeen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();

    /// <summary>Creates pod config for the named sources (e.g. file, http); snapshots of other sources are ignored.</summary>
    public PodConfig(IEnumerable<string> sources, ILogger<PodConfig> logger, TimeProvider timeProvider)
    {
        _sources = sources.Distinct(StringComparer.Ordinal).ToArray();
        if (_sources.Length == 0)
        {
            throw new ArgumentException("pod config needs at least one source", nameof(sources));
        }

        foreach (var s in _sources)
        {
            _pods[s] = new Dictionary<string, V1Pod>(StringComparer.Ordinal);
        }

        _logger = logger;
        _time = timeProvider;
    }

    /// <summary>The names of the sources, in registration order.</summary>
    public IReadOnlyList<string> Sources => _sources;

    /// <summary>Where sources write their snapshots.</summary>
    public ChannelWriter<PodSourceUpdate> Input => _input.Writer;

    /// <summary>The operations for the pod workers; completed when <see cref="RunAsync"/> ends.</summary>
    public ChannelReader<PodUpdate> Updates => _updates.Reader;

    /// <summary>Whether every source has sent at least one snapshot.</summary>
    public bool SeenAllSources
    {
        get
        {
            lock (_lock)
            {
                return _seen.Count == _sources.Length;
            }
        }
    }

    /// <summary>Completes once every source has sent at least one snapshot.</summary>
    public Task AllSourcesSeen => _allSeen.Task;

    /// <summary>All pods currently desired, sorted by source order, namespace and name.</summary>
    public IReadOnlyList<V1Pod> GetPods()
    {
        lock (_lock)
        {
            return _sources.SelectMany(s => Sorted(_pods[s].Values)).ToList();
        }
    }

    /// <summary>Merges snapshots from <see cref="Input"/> until it completes or <paramref name="cancellationToken"/> fires.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var update in _input.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                List<PodUpdate> ops;
                try
                {
                    ops = Merge(update);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // One snapshot must never end the merge loop: the source's previous pods stay.
                    _logger.LogError(e, "Snapshot of {Count} pods from source {Source} could not be merged; keeping its previous pods", update.Pods.Count, update.Source);
                    continue;
                }

                foreach (var op in ops)
                {
                    _updates.Writer.TryWrite(op);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            _updates.Writer.TryComplete();
        }
    }

    /// <summary>Merges one snapshot and returns the operations it causes (exposed for the merge loop and tests).</summary>
    internal List<PodUpdate> Merge(PodSourceUpdate update)
    {
        var source = update.Source;
        var ops = new List<PodUpdate>();
        lock (_lock)
        {
            if (!_pods.TryGetValue(source, out var oldPods))
            {
                _logger.LogWarning("Ignoring pods from unknown source {Source}", source);
                return ops;
            }

            var wasAllSeen = _seen.Count == _sources.Length;
            var firstSet = _seen.Add(source);
            var adds = new List<V1Pod>();
            var updates = new List<V1Pod>();
            var deletes = new List<V1Pod>();
            var reconciles = new List<V1Pod>();
            var pods = new Dictionary<string, V1Pod>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var incoming in update.Pods)
            {
                var fullName = $"{incoming.Metadata?.NamespaceProperty}/{incoming.Metadata?.Name}";
                if (!names.Add(fullName) || string.IsNullOrEmpty(incoming.Metadata?.Uid) || pods.ContainsKey(incoming.Metadata.Uid))
                {
                    _logger.LogWarning("Pod {Pod} from source {Source} ignored: duplicate pod name or UID, or no UID", fullName, source);
                    continue;
                }

                var pod = Clone(incoming);
                pod.Metadata.Annotations ??= new Dictionary<string, string>();
                pod.Metadata.Annotations[ConfigAnnotations.Source] = source;
                var uid = pod.Metadata.Uid;
                if (oldPods.TryGetValue(uid, out var existing))
                {
                    var (merged, kind) = Compare(existing, pod);
                    pods[uid] = merged;
                    switch (kind)
                    {
                        case PodOperation.Update:
                            updates.Add(merged);
                            break;
                        case PodOperation.Delete:
                            deletes.Add(merged);
                            break;
                        case PodOperation.Reconcile:
                            reconciles.Add(merged);
                            break;
                    }

                    continue;
                }

                pod.Metadata.Annotations[ConfigAnnotations.Seen] = FormatRfc3339Nano(_time.GetUtcNow());
                pods[uid] = pod;
                adds.Add(pod);
            }

            var removes = oldPods.Where(kv => !pods.ContainsKey(kv.Key)).Select(kv => kv.Value).ToList();
            _pods[source] = pods;
            LogChanges(source, adds, updates, deletes, removes, reconciles);
            if (!wasAllSeen && _seen.Count == _sources.Length)
            {
                _logger.LogInformation("All pod sources synced ({Sources}): {Count} pods", string.Join(", ", _sources), _pods.Values.Sum(p => p.Count));
                _allSeen.TrySetResult();
            }

            AddIfAny(ops, PodOperation.Remove, source, removes);
            AddIfAny(ops, PodOperation.Add, source, adds);
            AddIfAny(ops, PodOperation.Update, source, updates);
            AddIfAny(ops, PodOperation.Delete, source, deletes);
            if (firstSet && ops.Count == 0)
            {
                ops.Add(new PodUpdate(PodOperation.Add, source, []));
            }

            AddIfAny(ops, PodOperation.Reconcile, source, reconciles);
            return ops;
        }
    }

    /// <summary>Go's time.RFC3339Nano for a UTC instant: trailing zeros of the fraction trimmed.</summary>
    public static string FormatRfc3339Nano(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static (V1Pod Merged, PodOperation? Kind) Compare(V1Pod existing, V1Pod incoming)
    {
        if (!DifferSemantically(existing, incoming))
        {
            if (!UnpooledJson.SameJson(existing.Status, incoming.Status))
            {
                var reconciled = Clone(existing);
                reconciled.Status = incoming.Status;
                return (reconciled, PodOperation.Reconcile);
            }

            return (existing, null);
        }

        // The incoming pod replaces the stored one, keeping our first-seen time.
        if (existing.Metadata.Annotations?.TryGetValue(ConfigAnnotations.Seen, out var seen) == true)
        {
            incoming.Metadata.Annotations[ConfigAnnotations.Seen] = seen;
        }

        return (incoming, incoming.Metadata.DeletionTimestamp is not null ? PodOperation.Delete : PodOperation.Update);
    }

    private static bool DifferSemantically(V1Pod a, V1Pod b) =>
        a.Metadata.Generation != b.Metadata.Generation
        || a.Metadata.DeletionTimestamp != b.Metadata.DeletionTimestamp
        || a.Metadata.DeletionGracePeriodSeconds != b.Metadata.DeletionGracePeriodSeconds
        || !MapsEqual(a.Metadata.Labels, b.Metadata.Labels, [])
        || !MapsEqual(a.Metadata.Annotations, b.Metadata.Annotations, ConfigAnnotations.Local)
        || !UnpooledJson.SameJson(a.Spec, b.Spec);

    internal static bool MapsEqual(IDictionary<string, string>? a, IDictionary<string, string>? b, string[] ignored)
    {
        var x = (a ?? new Dictionary<string, string>()).Where(kv => Array.IndexOf(ignored, kv.Key) < 0).ToList();
        var y = (b ?? new Dictionary<string, string>()).Where(kv => Array.IndexOf(ignored, kv.Key) < 0).ToDictionary();
        return x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && v == kv.Value);
    }

    private static V1Pod Clone(V1Pod pod) => UnpooledJson.Clone(pod);

    private static List<V1Pod> Sorted(IEnumerable<V1Pod> pods) =>
        pods.OrderBy(p => p.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Metadata.Uid, StringComparer.Ordinal)
            .ToList();

    private static void AddIfAny(List<PodUpdate> ops, PodOperation op, string source, List<V1Pod> pods)
    {
        if (pods.Count > 0)
        {
            ops.Add(new PodUpdate(op, source, Sorted(pods)));
        }
    }

    private void LogChanges(string source, List<V1Pod> adds, List<V1Pod> updates, List<V1Pod> deletes, List<V1Pod> removes, List<V1Pod> reconciles)
    {
        foreach (var (op, list) in new[] { ("REMOVE", removes), ("ADD", adds), ("UPDATE", updates), ("DELETE", deletes), ("RECONCILE", reconciles) })
        {
            foreach (var p in list)
            {
                _logger.LogInformation("Pod config {Op} {Namespace}/{Name} uid {Uid} from source {Source}", op, p.Metadata.NamespaceProperty, p.Metadata.Name, p.Metadata.Uid, source);
            }
        }
    }
}
