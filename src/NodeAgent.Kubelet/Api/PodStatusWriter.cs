using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Patches;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Api;

/// <summary>
/// kubelet's status manager towards the API server: reads the node's status changes (<see cref="PodStatusSubscription"/>,
/// newest per pod) and writes each through <c>pods/NAME/status</c> as a strategic merge patch carrying the pod's UID
/// as precondition, only when it differs from what the API server has. A static pod's status goes to its mirror pod.
/// When a pod deleted through the API has stopped (its worker removed it), the pod is deleted with grace period 0,
/// which ends its Terminating state, as kubelet's final delete.
/// </summary>
/// <remarks>
/// <para>Conditions kubelet does not own (a readiness gate, DisruptionTarget…) are kept, and a condition whose status
/// is unchanged keeps the API server's transition time (kubelet's mergePodStatus and updateLastTransitionTime).</para>
/// <para>While the API server is away, each pod keeps only its newest status (bounded by the pods on the node) and
/// everything unsent is retried with backoff (1 s doubling to 30 s) until it is written; nothing is lost.</para>
/// </remarks>
public sealed partial class PodStatusWriter(KubeApiConnection connection, ApiPodSource source, PodStatusManager statuses, ILogger<PodStatusWriter> logger)
{
    private static readonly HashSet<string> KubeletConditions = new(StringComparer.Ordinal)
    {
        "PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers",
    };

    private static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly ResourceClient<V1Pod, V1PodList> _pods = new(connection, KubeResources.Pods);
    private readonly ConcurrentDictionary<string, PodStatusChange> _incoming = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Ns, string Name, string Source)> _known = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _writes;
    private long _deletes;

    private sealed record Pending(PodStatusChange Change);

    /// <summary>Status patches sent (for the API-pods benchmark and tests).</summary>
    public long StatusWrites => Interlocked.Read(ref _writes);

    /// <summary>Final deletes sent.</summary>
    public long FinalDeletes => Interlocked.Read(ref _deletes);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var subscription = statuses.Subscribe();
        var pump = subscription.ForEachAsync(c => _incoming[c.Uid] = c, Wake, cancellationToken);
        source.Changed += OnApiChange;
        try
        {
            await source.ReadyAsync(cancellationToken);
            var failures = 0;
            while (!cancellationToken.IsCancellationRequested)
            {
                foreach (var uid in _incoming.Keys)
                {
                    if (_incoming.TryRemove(uid, out var change))
                    {
                        _pending[uid] = new Pending(change);
                    }
                }

                var failed = false;
                foreach (var (uid, pending) in _pending.ToList())
                {
                    try
                    {
                        if (await WriteAsync(pending.Change, cancellationToken))
                        {
                            _pending.Remove(uid);
                        }
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        failed = true;
                        LogWriteFailed(Name(uid), e is ApiException or HttpRequestException ? e.Message : $"{e.GetType().Name}: {e.Message}");
                    }
                }

                failures = failed ? failures + 1 : 0;
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (failures > 0)
                {
                    timeout.CancelAfter(Agent.RetryDelay.After(failures, InitialBackoff, MaxBackoff));
                }

                try
                {
                    await _wake.Reader.WaitToReadAsync(timeout.Token);
                    _wake.Reader.TryRead(out _);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                }
            }
        }
        finally
        {
            source.Changed -= OnApiChange;
            subscription.Dispose();
            await pump;
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private void OnApiChange(V1Pod pod) => Wake();

    private string Name(string uid) => _known.TryGetValue(uid, out var k) ? $"{k.Ns}/{k.Name}" : uid;

    /// <summary>True when the change is done with (written, not needed, or moot); false to wait for the API's next change.</summary>
    private async Task<bool> WriteAsync(PodStatusChange change, CancellationToken cancellationToken)
    {
        if (change.Pod is not { } pod)
        {
            return await FinishAsync(change.Uid, cancellationToken);
        }

        var meta = pod.Metadata;
        var origin = Annotation(pod, ConfigAnnotations.Source) ?? PodSourceNames.ApiServer;
        _known[change.Uid] = (meta.NamespaceProperty, meta.Name, origin);
        var target = source.Get(meta.NamespaceProperty, meta.Name);
        if (origin == PodSourceNames.ApiServer)
        {
            if (target is null || target.Metadata.Uid != change.Uid)
            {
                // Gone from the API server (or replaced by a new pod of the same name): nothing to write to.
                return true;
            }
        }
        else if (target is null || !ApiPodSource.IsMirror(target) || target.Metadata.DeletionTimestamp is not null
                 || Annotation(target, ConfigAnnotations.Mirror) != Annotation(pod, ConfigAnnotations.Hash))
        {
            // The mirror pod is not there yet (or is being replaced): written when it appears.
            return false;
        }

        var merged = Merge(target.Status, pod.Status);
        if (UnpooledJson.SameJson(target.Status, merged))
        {
            return true;
        }

        var before = new V1Pod { Metadata = new V1ObjectMeta(), Status = target.Status };
        var after = new V1Pod { Metadata = new V1ObjectMeta(), Status = merged };
        var patch = JsonNode.Parse(PatchBuilder.StrategicMerge(before, after))!.AsObject();
        patch["metadata"] = new JsonObject { ["uid"] = target.Metadata.Uid };
        try
        {
            await _pods.PatchAsync(meta.NamespaceProperty, meta.Name, PatchType.StrategicMerge, patch.ToJsonString(), "status", cancellationToken);
            Interlocked.Increment(ref _writes);
        }
        catch (ApiException e) when (e.IsNotFound || e.IsConflict)
        {
            // Deleted, or the UID precondition failed (a new pod of that name): this status has no pod any more.
            LogMoot(meta.NamespaceProperty + "/" + meta.Name, e.Message);
        }

        return true;
    }

    /// <summary>The pod's worker removed it: an API pod that was deleted is now deleted for good (grace 0).</summary>
    private async Task<bool> FinishAsync(string uid, CancellationToken cancellationToken)
    {
        if (!_known.Remove(uid, out var k) || k.Source != PodSourceNames.ApiServer)
        {
            return true;
        }

        var target = source.Get(k.Ns, k.Name);
        if (target is null || target.Metadata.Uid != uid || target.Metadata.DeletionTimestamp is null)
        {
            return true;
        }

        try
        {
            await _pods.DeleteAsync(k.Ns, k.Name, new DeleteOptions { GracePeriodSeconds = 0, PreconditionUid = uid }, cancellationToken);
            Interlocked.Increment(ref _deletes);
            LogDeleted(k.Ns + "/" + k.Name);
        }
        catch (ApiException e) when (e.IsNotFound || e.IsConflict)
        {
        }
        catch
        {
            _known[uid] = k;
            throw;
        }

        return true;
    }

    internal static string? Annotation(V1Pod pod, string key) =>
        pod.Metadata?.Annotations is { } a && a.TryGetValue(key, out var v) ? v : null;

    /// <summary>kubelet's mergePodStatus: our status, plus the API's conditions we do not own, with the API's transition
    /// times for conditions whose status did not change.</summary>
    internal static V1PodStatus Merge(V1PodStatus? api, V1PodStatus? ours)
    {
        var merged = UnpooledJson.Clone(ours ?? new V1PodStatus());
        var conditions = merged.Conditions?.ToList() ?? [];
        foreach (var c in conditions)
        {
            if (api?.Conditions?.FirstOrDefault(a => a.Type == c.Type) is { } old && old.Status == c.Status && old.LastTransitionTime is not null)
            {
                c.LastTransitionTime = old.LastTransitionTime;
            }
        }

        foreach (var other in api?.Conditions ?? [])
        {
            if (!KubeletConditions.Contains(other.Type) && conditions.All(c => c.Type != other.Type))
            {
                conditions.Add(other);
            }
        }

        merged.Conditions = conditions.Count > 0 ? conditions : null;
        return merged;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: status not written to the API server: {Error}; retrying")]
    private partial void LogWriteFailed(string pod, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: status dropped: {Reason}")]
    private partial void LogMoot(string pod, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: containers stopped; deleted from the API server")]
    private partial void LogDeleted(string pod);
}
