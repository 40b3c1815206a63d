using System.Collections.Concurrent;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Events;

/// <summary>
/// Keeps the recent events of each pod (as kubelet's recorder would send them to the API server) and logs them;
/// repeated events are counted instead of stored again, as the API server's event series do.
/// </summary>
public sealed partial class PodEventLog(ILogger<PodEventLog> logger, TimeProvider time, int perPod = 64) : IPodEventRecorder
{
    private readonly ConcurrentDictionary<string, List<Corev1Event>> _events = new();

    public void Record(V1Pod pod, string type, string reason, string message, string? fieldPath = null)
    {
        var list = _events.GetOrAdd(pod.Metadata.Uid, _ => []);
        var now = time.GetUtcNow().UtcDateTime;
        lock (list)
        {
            var same = list.FirstOrDefault(e => e.Reason == reason && e.Message == message && e.InvolvedObject.FieldPath == fieldPath);
            if (same is not null)
            {
                same.Count = (same.Count ?? 1) + 1;
                same.LastTimestamp = now;
            }
            else
            {
                list.Add(new Corev1Event
                {
                    Metadata = new V1ObjectMeta { Name = $"{pod.Metadata.Name}.{now.Ticks:x}", NamespaceProperty = pod.Metadata.NamespaceProperty },
                    InvolvedObject = new V1ObjectReference
                    {
                        Kind = "Pod", ApiVersion = "v1", Name = pod.Metadata.Name, NamespaceProperty = pod.Metadata.NamespaceProperty,
                        Uid = pod.Metadata.Uid, FieldPath = fieldPath,
                    },
                    Type = type,
                    Reason = reason,
                    Message = message,
                    Count = 1,
                    FirstTimestamp = now,
                    LastTimestamp = now,
                    Source = new V1EventSource { Component = "kubelet" },
                });
                if (list.Count > perPod)
                {
                    list.RemoveAt(0);
                }
            }
        }

        LogEvent(pod.Metadata.NamespaceProperty ?? "default", pod.Metadata.Name, type, reason, message);
    }

    /// <summary>The pod's events, oldest first.</summary>
    public IReadOnlyList<Corev1Event> For(string podUid)
    {
        if (!_events.TryGetValue(podUid, out var list))
        {
            return [];
        }

        lock (list)
        {
            return list.ToList();
        }
    }

    public void Forget(string podUid) => _events.TryRemove(podUid, out _);

    /// <summary>Pods with events kept (for tests of churn: zero once every pod is forgotten).</summary>
    internal int PodCount => _events.Count;

    [LoggerMessage(Level = LogLevel.Information, Message = "event pod={Namespace}/{Pod} type={Type} reason={Reason}: {Message}")]
    private partial void LogEvent(string @namespace, string pod, string type, string reason, string message);
}
