using System.Threading.Channels;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Informers;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Kubelet.Api;

/// <summary>
/// kubelet's apiserver source: the pods bound to this node (<c>spec.nodeName=&lt;node&gt;</c>), listed and watched
/// by an informer (resourceVersions, bookmarks, relist on 410, backoff), handed to pod config as full snapshots.
/// Pods keep their API UIDs. Mirror pods (the node's own copies of its static pods) are not run: they are kept apart
/// for <see cref="MirrorPods"/>. A burst of watch events makes one snapshot: the source wakes, reads the cache once.
/// An update that changed only the status (usually our own write coming back) makes none.
/// </summary>
/// <remarks>
/// <para>Every pod is hostile input even though the API server validated it: one that fails the node's own checks
/// (a UID that cannot name a directory, a name that is not a DNS subdomain, a grace period beyond what the agent can
/// time…) is left out of the snapshot with one warning per version, and the others run.</para>
/// <para>No snapshot is sent before the first list has arrived, and a failed list or watch sends none (the informer
/// keeps its cache): an API server that is away never makes the node kill its pods.</para>
/// <para>Snapshots carry the pods without their API status: the node's own status is the truth, and a status that
/// comes back through the watch (usually our own write) is no reason to sync a pod.</para>
/// </remarks>
public sealed partial class ApiPodSource : IPodSource, IInformerHandler<V1Pod>, IAsyncDisposable
{
    private readonly Informer<V1Pod, V1PodList> _informer;
    private readonly ILogger _logger;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<string, string> _rejectedVersions = new(StringComparer.Ordinal);
    private int _started;

    public ApiPodSource(KubeApiConnection connection, string nodeName, ILogger<ApiPodSource> logger, TimeProvider time)
    {
        NodeName = nodeName;
        _logger = logger;
        _informer = new Informer<V1Pod, V1PodList>(
            new ResourceClient<V1Pod, V1PodList>(connection, KubeResources.Pods),
            new InformerOptions { FieldSelector = "spec.nodeName=" + nodeName },
            logger, time);
        _informer.AddHandler(this);
    }

    public string Name => PodSourceNames.ApiServer;

    public string NodeName { get; }

    /// <summary>Completes once the first list of the node's pods has arrived.</summary>
    public Task ReadyAsync(CancellationToken cancellationToken = default) => _informer.ReadyAsync(cancellationToken);

    /// <summary>The pod as the API server has it now (null when unknown): for the status writer and mirror pods.</summary>
    public V1Pod? Get(string? ns, string name) => _informer.Cache.Get(ns, name);

    /// <summary>The node's mirror pods as the API server has them now.</summary>
    public IReadOnlyList<V1Pod> MirrorPods() => [.. _informer.Cache.List().Where(IsMirror)];

    /// <summary>Raised with the pod after every change the informer applied, on its dispatch task (the status writer
    /// and mirror pods listen here; a handler must return at once).</summary>
    public event Action<V1Pod>? Changed;

    public static bool IsMirror(V1Pod pod) => pod.Metadata?.Annotations?.ContainsKey(ConfigAnnotations.Mirror) == true;

    public async Task RunAsync(ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _informer.Start();
        }

        await _informer.ReadyAsync(cancellationToken);
        LogListed(NodeName, _informer.Cache.Count);
        _wake.Writer.TryWrite(true);
        while (await _wake.Reader.WaitToReadAsync(cancellationToken))
        {
            _wake.Reader.TryRead(out _);
            await output.WriteAsync(new PodSourceUpdate(Name, Snapshot()), cancellationToken);
        }
    }

    private List<V1Pod> Snapshot()
    {
        var pods = new List<V1Pod>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var pod in _informer.Cache.List())
        {
            if (IsMirror(pod) || pod.Metadata is null)
            {
                continue;
            }

            var key = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}";
            seen.Add(key);
            var problems = PodValidator.ValidateApiPod(pod);
            if (problems.Count > 0)
            {
                var version = pod.Metadata.ResourceVersion ?? "";
                if (!_rejectedVersions.TryGetValue(key, out var logged) || logged != version)
                {
                    _rejectedVersions[key] = version;
                    LogRejected(key, string.Join("; ", problems.Select(p => $"{p.Field}: {p.Reason}")));
                }

                continue;
            }

            _rejectedVersions.Remove(key);
            pods.Add(new V1Pod { ApiVersion = "v1", Kind = "Pod", Metadata = pod.Metadata, Spec = pod.Spec });
        }

        foreach (var gone in _rejectedVersions.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            _rejectedVersions.Remove(gone);
        }

        return pods;
    }

    private void Wake(V1Pod pod, bool snapshot = true)
    {
        if (snapshot)
        {
            _wake.Writer.TryWrite(true);
        }

        try
        {
            Changed?.Invoke(pod);
        }
        catch (Exception e)
        {
            LogListenerFailed(e.ToString());
        }
    }

    void IInformerHandler<V1Pod>.OnAdd(V1Pod obj) => Wake(obj);

    void IInformerHandler<V1Pod>.OnUpdate(V1Pod oldObj, V1Pod newObj) => Wake(newObj, snapshot: !OnlyStatusChanged(oldObj, newObj));

    void IInformerHandler<V1Pod>.OnDelete(V1Pod obj) => Wake(obj);

    /// <summary>True when nothing the snapshot carries changed (it carries no status).</summary>
    private static bool OnlyStatusChanged(V1Pod a, V1Pod b) =>
        a.Metadata is { } x && b.Metadata is { } y
        && x.Uid == y.Uid
        && x.DeletionTimestamp == y.DeletionTimestamp
        && x.DeletionGracePeriodSeconds == y.DeletionGracePeriodSeconds
        && PodConfig.MapsEqual(x.Labels, y.Labels, [])
        && PodConfig.MapsEqual(x.Annotations, y.Annotations, [])
        && UnpooledJson.SameJson(a.Spec, b.Spec);

    public ValueTask DisposeAsync() => _informer.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "api source: first list of pods bound to node {Node}: {Count} pod(s)")]
    private partial void LogListed(string node, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "api source: pod {Pod} not run: {Errors}")]
    private partial void LogRejected(string pod, string errors);

    [LoggerMessage(Level = LogLevel.Error, Message = "api source: change listener failed: {Error}")]
    private partial void LogListenerFailed(string error);
}
