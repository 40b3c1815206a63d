using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// get, list (label/field selectors, <c>limit</c>/<c>continue</c> over a consistent snapshot) and watch
/// (resourceVersion replay, 410 Expired for compacted versions as an ERROR event, bookmarks, <c>timeoutSeconds</c>),
/// as JSON or as a Table.
/// </summary>
public sealed class ReadHandler(ObjectStore store, TimeProvider time, TimeSpan bookmarkInterval, CancellationToken serverStopping)
{
    private readonly ConcurrentDictionary<string, (List<StoredObject> Items, long Rv)> _snapshots = new();
    private readonly ConcurrentQueue<string> _snapshotOrder = new();

    public async Task GetAsync(HttpContext context, RequestInfo r)
    {
        var obj = store.Get(r.Resource.Key, r.Namespace ?? "", r.Name!) ?? throw ApiError.NotFound(r.Resource, r.Name!);
        if (HttpIo.WantsTable(context))
        {
            var table = Tables.Build(r.Resource, [r.Resource.Shown(obj)], obj.ResourceVersion, null, IncludeObject(context), time);
            await HttpIo.WriteJsonAsync(context, 200, table);
            return;
        }
        await HttpIo.WriteBytesAsync(context, 200, r.Resource.Out(obj));
    }

    public async Task ListAsync(HttpContext context, RequestInfo r, LabelSelector labels, FieldSelector fields)
    {
        var q = context.Request.Query;
        var limit = ParseInt(q["limit"], "limit") ?? 0;
        var cont = q["continue"].ToString();
        List<StoredObject> items;
        long rv;
        int offset;
        string snapId;
        if (cont.Length > 0)
        {
            (snapId, offset) = DecodeContinue(cont);
            if (!_snapshots.TryGetValue(snapId, out var snap))
            {
                throw new ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            }
            (items, rv) = snap;
        }
        else
        {
            CheckListVersion(q["resourceVersion"].ToString(), q["resourceVersionMatch"].ToString());
            (items, rv) = store.List(r.Resource.Key, r.Namespace, o => labels.Matches(o) && fields.Matches(o));
            offset = 0;
            snapId = "";
        }
        var page = limit > 0 ? items.Skip(offset).Take(limit).ToList() : items.Skip(offset).ToList();
        string? next = null;
        if (limit > 0 && offset + page.Count < items.Count)
        {
            if (snapId.Length == 0)
            {
                snapId = Guid.NewGuid().ToString("N");
                _snapshots[snapId] = (items, rv);
                _snapshotOrder.Enqueue(snapId);
                while (_snapshotOrder.Count > 64 && _snapshotOrder.TryDequeue(out var old))
                {
                    _snapshots.TryRemove(old, out _);
                }
            }
            next = EncodeContinue(snapId, offset + page.Count);
        }
        var remaining = next is null ? (long?)null : items.Count - offset - page.Count;
        if (HttpIo.WantsTable(context))
        {
            var table = Tables.Build(r.Resource, page.Select(r.Resource.Shown), rv, next, IncludeObject(context), time);
            if (remaining is { } rem)
            {
                table["metadata"]!["remainingItemCount"] = rem;
            }
            await HttpIo.WriteJsonAsync(context, 200, table);
            return;
        }
        await WriteListAsync(context, r.Resource, page, rv, next, remaining);
    }

    private static async Task WriteListAsync(HttpContext context, ResourceInfo resource, List<StoredObject> page, long rv, string? next, long? remaining)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        var meta = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) };
        if (next is not null)
        {
            meta["continue"] = next;
            meta["remainingItemCount"] = remaining;
        }
        var head = $"{{\"kind\":\"{resource.Kind}List\",\"apiVersion\":\"{resource.GroupVersion}\",\"metadata\":{meta.ToWire()},\"items\":[";
        var body = context.Response.Body;
        await body.WriteAsync(Encoding.UTF8.GetBytes(head), context.RequestAborted);
        for (var i = 0; i < page.Count; i++)
        {
            if (i > 0)
            {
                await body.WriteAsync(","u8.ToArray(), context.RequestAborted);
            }
            await body.WriteAsync(resource.Out(page[i]), context.RequestAborted);
        }
        await body.WriteAsync("]}"u8.ToArray(), context.RequestAborted);
    }

    public async Task WatchAsync(HttpContext context, RequestInfo r, LabelSelector labels, FieldSelector fields)
    {
        var q = context.Request.Query;
        var rvText = q["resourceVersion"].ToString();
        long? from = rvText is "" or "0" ? null : ParseLong(rvText, "resourceVersion");
        var bookmarks = q["allowWatchBookmarks"] == "true";
        var timeout = ParseInt(q["timeoutSeconds"], "timeoutSeconds");
        var asTable = HttpIo.WantsTable(context);
        var includeObject = IncludeObject(context);
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-cache, private";
        StoreWatcher watcher;
        try
        {
            watcher = store.Watch(r.Resource.Key, r.Namespace, o => labels.Matches(o) && fields.Matches(o), from);
        }
        catch (StoreGoneException e)
        {
            var status = HttpIo.Status(new ApiError(410, "Expired", e.Message));
            await WriteLineAsync(context, new JsonObject { ["type"] = "ERROR", ["object"] = status }.ToWire());
            return;
        }
        using var _ = watcher;
        await context.Response.Body.FlushAsync(context.RequestAborted);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, serverStopping);
        if (timeout is > 0)
        {
            cts.CancelAfter(TimeSpan.FromSeconds(timeout.Value));
        }
        using var bookmarkTimer = bookmarks ? time.CreateTimer(_ => watcher.RequestBookmark(), null, bookmarkInterval, bookmarkInterval) : null;
        try
        {
            await foreach (var item in watcher.Events.ReadAllAsync(cts.Token))
            {
                string line;
                if (item.Type == "BOOKMARK")
                {
                    var bookmark = new JsonObject
                    {
                        ["kind"] = r.Resource.Kind,
                        ["apiVersion"] = r.Resource.GroupVersion,
                        ["metadata"] = new JsonObject { ["resourceVersion"] = item.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
                    };
                    line = new JsonObject { ["type"] = "BOOKMARK", ["object"] = bookmark }.ToWire();
                }
                else if (asTable)
                {
                    var table = Tables.Build(r.Resource, [r.Resource.Shown(item.Object!)], item.ResourceVersion, null, includeObject, time);
                    line = new JsonObject { ["type"] = item.Type, ["object"] = table }.ToWire();
                }
                else
                {
                    line = $"{{\"type\":\"{item.Type}\",\"object\":{Encoding.UTF8.GetString(r.Resource.Out(item.Object!))}}}";
                }
                await WriteLineAsync(context, line);
            }
        }
        catch (OperationCanceledException)
        {
            // Timeout or client gone: the stream simply ends, as the real server ends a watch.
        }
    }

    private static async Task WriteLineAsync(HttpContext context, string line)
    {
        await context.Response.WriteAsync(line + "\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private void CheckListVersion(string rv, string match)
    {
        if (rv is "" or "0")
        {
            if (match == "Exact")
            {
                throw ApiError.BadRequest("resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"");
            }
            return;
        }
        var wanted = ParseLong(rv, "resourceVersion");
        var current = store.CurrentResourceVersion;
        if (wanted > current)
        {
            throw new ApiError(504, "Timeout", $"Too large resource version: {wanted}, current: {current}");
        }
        if (match == "Exact" && wanted != current)
        {
            throw new ApiError(410, "Expired", $"too old resource version: {wanted} ({current})");
        }
    }

    private static bool IncludeObject(HttpContext context) => context.Request.Query["includeObject"] == "Object";

    private static int? ParseInt(Microsoft.Extensions.Primitives.StringValues value, string name)
    {
        var text = value.ToString();
        if (text.Length == 0)
        {
            return null;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw ApiError.BadRequest($"invalid value for {name}: \"{text}\"");
    }

    private static long ParseLong(string text, string name) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 0
            ? v
            : throw ApiError.BadRequest($"invalid {name}: \"{text}\"");

    private static string EncodeContinue(string id, int offset) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{id}:{offset.ToString(CultureInfo.InvariantCulture)}"));

    private static (string Id, int Offset) DecodeContinue(string token)
    {
        try
        {
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(token)).Split(':');
            if (parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var off))
            {
                return (parts[0], off);
            }
        }
        catch (FormatException)
        {
        }
        throw ApiError.BadRequest("continue key is not valid: malformed token");
    }
}
