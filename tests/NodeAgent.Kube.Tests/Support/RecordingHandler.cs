using System.Collections.Concurrent;
using k8s;
using k8s.Models;
using NodeAgent.Kube.Informers;

namespace NodeAgent.Kube.Tests.Support;

/// <summary>
/// Rebuilds the world from an informer's notifications alone and checks them as they come: an add only for an
/// object not held, an update or delete only for one held, versions never repeated or going back for one object.
/// </summary>
public sealed class RecordingHandler<T> : IInformerHandler<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _lock = new();
    public Dictionary<string, T> World { get; } = new(StringComparer.Ordinal);
    public ConcurrentQueue<string> Violations { get; } = new();
    public int Adds, Updates, Deletes, Resyncs;

    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits until <paramref name="condition"/> holds, checked after every notification.</summary>
    public async Task WaitForAsync(Func<RecordingHandler<T>, bool> condition, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(this))
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cts.Token);
        }
    }

    private void Signal()
    {
        var previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private static string Key(T o) => InformerCache<T>.KeyOf(o);
    private static long Rv(T o) => long.Parse(o.Metadata.ResourceVersion, System.Globalization.CultureInfo.InvariantCulture);

    public void OnAdd(T obj)
    {
        lock (_lock)
        {
            Adds++;
            if (!World.TryAdd(Key(obj), obj))
            {
                Violations.Enqueue($"add of {Key(obj)} already held");
            }
            Signal();
        }
    }

    public void OnUpdate(T oldObj, T newObj)
    {
        lock (_lock)
        {
            if (ReferenceEquals(oldObj, newObj))
            {
                Resyncs++;
                Signal();
                return;
            }
            Updates++;
            if (!World.TryGetValue(Key(newObj), out var held))
            {
                Violations.Enqueue($"update of {Key(newObj)} not held");
            }
            else if (Rv(newObj) <= Rv(held))
            {
                Violations.Enqueue($"update of {Key(newObj)} to version {Rv(newObj)} after {Rv(held)}");
            }
            World[Key(newObj)] = newObj;
            Signal();
        }
    }

    public void OnDelete(T obj)
    {
        lock (_lock)
        {
            Deletes++;
            if (!World.Remove(Key(obj)))
            {
                Violations.Enqueue($"delete of {Key(obj)} not held");
            }
            Signal();
        }
    }

    /// <summary>Name → resourceVersion of the world as the notifications built it (call under <see cref="WaitForAsync"/> or after).</summary>
    public Dictionary<string, string> Snapshot()
    {
        lock (_lock)
        {
            return World.ToDictionary(kv => kv.Key, kv => kv.Value.Metadata.ResourceVersion);
        }
    }

    public bool Matches(Dictionary<string, string> expected) =>
        World.Count == expected.Count && World.All(kv => expected.GetValueOrDefault(kv.Key) == kv.Value.Metadata.ResourceVersion);
}
