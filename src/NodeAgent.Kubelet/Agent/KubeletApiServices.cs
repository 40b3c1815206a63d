using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Events;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kubelet.Agent;

/// <summary>
/// What the kubelet's API-server-mode parts share: the node's connection, its name and one event recorder
/// (component <c>kubelet</c>, host = the node), as kubelet shares one broadcaster. Built by <see cref="KubeletHost"/>
/// when <see cref="KubeletHostOptions.Api"/> is set.
/// </summary>
public sealed class KubeletApiServices : IAsyncDisposable
{
    public KubeletApiServices(KubeApiContext context, string nodeName, ILoggerFactory loggers, TimeProvider time)
    {
        Connection = context.Connection;
        NodeName = nodeName;
        Events = new EventRecorder(new ResourceClient<Corev1Event, Corev1EventList>(Connection, KubeResources.Events), "kubelet", nodeName,
            loggers.CreateLogger<EventRecorder>(), time);
    }

    public KubeApiConnection Connection { get; }

    public string NodeName { get; }

    /// <summary>Events to the API server (bounded queue: recording never blocks a worker).</summary>
    public EventRecorder Events { get; }

    public ValueTask DisposeAsync() => Events.DisposeAsync();
}
