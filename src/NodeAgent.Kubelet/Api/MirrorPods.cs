using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Api;

/// <summary>
/// kubelet's mirror pods: for every static pod (file or http source) the node keeps a pod of the same name in the
/// API server, annotated <c>kubernetes.io/config.mirror</c> = the static pod's <c>config.hash</c>, with a controller
/// owner reference to the Node (what NodeRestriction lets a node create). A mirror that is deleted (it turns
/// Terminating) or whose hash no longer matches is deleted with grace 0 and made again; a mirror without a static pod
/// is deleted. Runs when the node's set of static pods changes or a mirror pod changes in the API, never on a timer
/// of its own, except to retry a failure (10 s): status changes and the other pods' watch events cost nothing here.
/// </summary>
public sealed partial class MirrorPods(
    KubeApiConnection connection,
    ApiPodSource source,
    IPodLister pods,
    PodStatusManager statuses,
    Func<Task<V1Node>> node,
    ILogger<MirrorPods> logger)
{
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);

    private readonly ResourceClient<V1Pod, V1PodList> _pods = new(connection, KubeResources.Pods);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, string> _reported = new(StringComparer.Ordinal);
    private readonly HashSet<string> _staticUids = new(StringComparer.Ordinal);
    private bool _staticSetChanged;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var subscription = statuses.Subscribe();
        var pump = subscription.ForEachAsync(NoteStatic, WakeIfStaticSetChanged, cancellationToken);
        source.Changed += OnApiChange;
        try
        {
            var owner = await node();
            await source.ReadyAsync(cancellationToken);
            Wake();
            while (await _wake.Reader.WaitToReadAsync(cancellationToken))
            {
                _wake.Reader.TryRead(out _);
                if (!await ReconcileAsync(owner, cancellationToken))
                {
                    await Task.Delay(RetryAfter, cancellationToken);
                    Wake();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            source.Changed -= OnApiChange;
            subscription.Dispose();
            await pump;
        }
    }

    private void Wake() => _wake.Writer.TryWrite(true);

    private void OnApiChange(V1Pod pod)
    {
        if (ApiPodSource.IsMirror(pod))
        {
            Wake();
        }
    }

    /// <summary>On the subscription's task: a static pod appeared (its first status) or any pod went.</summary>
    private void NoteStatic(PodStatusChange change) =>
        _staticSetChanged |= change.Pod is { } pod
            ? PodStatusWriter.Annotation(pod, ConfigAnnotations.Source) is PodSourceNames.File or PodSourceNames.Http && _staticUids.Add(change.Uid)
            : _staticUids.Remove(change.Uid);

    private void WakeIfStaticSetChanged()
    {
        if (_staticSetChanged)
        {
            _staticSetChanged = false;
            Wake();
        }
    }

    /// <summary>One pass; false when something failed and should be retried.</summary>
    private async Task<bool> ReconcileAsync(V1Node owner, CancellationToken cancellationToken)
    {
        var ok = true;
        var wanted = pods.ListPods()
            .Where(p => PodStatusWriter.Annotation(p, ConfigAnnotations.Source) is PodSourceNames.File or PodSourceNames.Http)
            .ToDictionary(Key, StringComparer.Ordinal);
        var mirrors = source.MirrorPods().ToDictionary(Key, StringComparer.Ordinal);
        foreach (var (key, mirror) in mirrors)
        {
            var keep = wanted.TryGetValue(key, out var staticPod)
                && mirror.Metadata.DeletionTimestamp is null
                && PodStatusWriter.Annotation(mirror, ConfigAnnotations.Mirror) == PodStatusWriter.Annotation(staticPod, ConfigAnnotations.Hash);
            if (!keep)
            {
                ok &= await TryAsync(key, "delete", () => DeleteAsync(mirror, cancellationToken));
            }
        }

        foreach (var (key, staticPod) in wanted)
        {
            if (!mirrors.ContainsKey(key))
            {
                ok &= await TryAsync(key, "create", () => CreateAsync(staticPod, owner, cancellationToken));
            }
        }

        foreach (var gone in _reported.Keys.Where(k => !wanted.ContainsKey(k) && !mirrors.ContainsKey(k)).ToList())
        {
            _reported.Remove(gone);
        }

        return ok;
    }

    private async Task<bool> TryAsync(string key, string what, Func<Task> action)
    {
        try
        {
            await action();
            _reported.Remove(key);
            return true;
        }
        catch (ApiException e) when (e.IsNotFound || e.IsAlreadyExists || e.IsConflict)
        {
            // Someone else's change crossed ours: the informer brings it and the next pass decides again.
            return true;
        }
        catch (Exception e) when (e is ApiException or HttpRequestException)
        {
            var message = $"{what}: {e.Message}";
            if (!_reported.TryGetValue(key, out var last) || last != message)
            {
                _reported[key] = message;
                LogFailed(key, message);
            }

            return false;
        }
    }

    private async Task CreateAsync(V1Pod staticPod, V1Node owner, CancellationToken cancellationToken)
    {
        var meta = staticPod.Metadata;
        var annotations = new Dictionary<string, string>(meta.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [ConfigAnnotations.Mirror] = PodStatusWriter.Annotation(staticPod, ConfigAnnotations.Hash) ?? meta.Uid,
        };
        var mirror = new V1Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new V1ObjectMeta
            {
                Name = meta.Name,
                NamespaceProperty = meta.NamespaceProperty,
                Labels = meta.Labels is null ? null : new Dictionary<string, string>(meta.Labels),
                Annotations = annotations,
                OwnerReferences = [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = owner.Metadata.Name, Uid = owner.Metadata.Uid, Controller = true }],
            },
            Spec = staticPod.Spec,
        };
        await _pods.CreateAsync(mirror, cancellationToken);
        LogCreated(Key(staticPod));
    }

    private async Task DeleteAsync(V1Pod mirror, CancellationToken cancellationToken)
    {
        await _pods.DeleteAsync(mirror.Metadata.NamespaceProperty, mirror.Metadata.Name,
            new DeleteOptions { GracePeriodSeconds = 0, PreconditionUid = mirror.Metadata.Uid }, cancellationToken);
        LogDeleted(Key(mirror));
    }

    private static string Key(V1Pod p) => $"{p.Metadata.NamespaceProperty}/{p.Metadata.Name}";

    [LoggerMessage(Level = LogLevel.Information, Message = "mirror pod {Pod} created")]
    private partial void LogCreated(string pod);

    [LoggerMessage(Level = LogLevel.Information, Message = "mirror pod {Pod} deleted")]
    private partial void LogDeleted(string pod);

    [LoggerMessage(Level = LogLevel.Warning, Message = "mirror pod {Pod}: {Error}; retrying")]
    private partial void LogFailed(string pod, string error);
}
