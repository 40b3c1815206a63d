using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>Runs a controller's pass at start and after every change to the resource types it follows; reopens its watches if the server drops them.</summary>
public static class ChangeLoop
{
    public static async Task RunAsync(ObjectStore store, string[] keys, Action pass, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var watchers = keys.Select(k => store.Watch(k, null, _ => true, null)).ToList();
            try
            {
                while (true)
                {
                    pass();
                    var waits = watchers.Select(w => w.Events.WaitToReadAsync(ct).AsTask()).ToList();
                    await Task.WhenAny(waits);
                    if (ct.IsCancellationRequested)
                    {
                        return;
                    }
                    if (waits.Any(w => w.IsCompletedSuccessfully && !w.Result))
                    {
                        break;
                    }
                    foreach (var w in watchers)
                    {
                        while (w.Events.TryRead(out _))
                        {
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            finally
            {
                foreach (var w in watchers)
                {
                    w.Dispose();
                }
            }
        }
    }
}
