using System.Collections.Concurrent;
using k8s.Models;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>The real event log, plus a history that outlives <see cref="Forget"/> so tests can see every event.</summary>
internal sealed class RecordingEvents(PodEventLog log) : IPodEventRecorder
{
    private readonly ConcurrentQueue<(string Uid, string Reason, string Message)> _all = new();
    private readonly ConcurrentBag<(Func<string, string, bool> Match, TaskCompletionSource Done)> _waiters = [];

    public PodEventLog Log { get; } = log;

    public IReadOnlyList<(string Uid, string Reason, string Message)> All => _all.ToList();

    public void Record(V1Pod pod, string type, string reason, string message, string? fieldPath = null)
    {
        Log.Record(pod, type, reason, message, fieldPath);
        _all.Enqueue((pod.Metadata.Uid, reason, message));
        foreach (var (match, done) in _waiters)
        {
            if (match(pod.Metadata.Uid, reason))
            {
                done.TrySetResult();
            }
        }
    }

    public void Forget(string podUid) => Log.Forget(podUid);

    /// <summary>Completes when an event with <paramref name="reason"/> is recorded for the pod (or already was).</summary>
    public Task Next(string uid, string reason)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add(((u, r) => u == uid && r == reason, done));
        if (_all.Any(e => e.Uid == uid && e.Reason == reason))
        {
            done.TrySetResult();
        }

        return done.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }
}
