namespace NodeAgent.Kube.Informers;

/// <summary>
/// Receives an informer's changes, in order, one at a time, on the informer's dispatch task (client-go's
/// ResourceEventHandler). Objects are shared with the cache: do not modify them.
/// </summary>
public interface IInformerHandler<in T>
{
    /// <summary>An object appeared (also for every object of the first list).</summary>
    void OnAdd(T obj);

    /// <summary>An object changed, or a resync handed it over again (then old and new are the same object).</summary>
    void OnUpdate(T oldObj, T newObj);

    /// <summary>An object is gone (deleted, or it left the selector); the last state known.</summary>
    void OnDelete(T obj);
}
