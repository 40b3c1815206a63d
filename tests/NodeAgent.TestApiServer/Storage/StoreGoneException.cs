namespace NodeAgent.TestApiServer.Storage;

/// <summary>A watch asked for a resourceVersion older than the kept history (the server answers 410 Expired).</summary>
public sealed class StoreGoneException(long requested, long oldest)
    : Exception($"too old resource version: {requested} ({oldest})")
{
    public long Requested { get; } = requested;
    public long Oldest { get; } = oldest;
}
