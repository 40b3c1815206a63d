namespace NodeAgent.TestApiServer.Storage;

/// <summary>One event a watcher receives: ADDED, MODIFIED, DELETED with the object, or BOOKMARK/ERROR.</summary>
public sealed record WatchItem(string Type, StoredObject? Object, long ResourceVersion);
