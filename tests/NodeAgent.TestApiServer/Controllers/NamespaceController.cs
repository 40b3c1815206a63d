using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Api;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Controllers;

/// <summary>
/// The namespace controller: a namespace being deleted (Terminating, with the <c>kubernetes</c> finalizer in its
/// spec) has every object in it deleted as an API DELETE would (pods bound to a node stay until their kubelet
/// confirms, objects with finalizers until those are gone); once nothing is left, the finalizer is removed and the
/// namespace goes.
/// </summary>
public sealed class NamespaceController(ObjectStore store, WriteHandler writes)
{
    private static readonly UserInfo Identity = new("system:serviceaccount:kube-system:namespace-controller", ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"]);

    private static readonly ResourceInfo[] Contents = ResourceCatalog.All.Where(r => r.Namespaced && r.View is null && !r.IsReview).ToArray();

    public Task RunAsync(CancellationToken ct) =>
        ChangeLoop.RunAsync(store, Contents.Select(r => r.Key).Append("namespaces").Distinct().ToArray(), Sync, ct);

    private void Sync()
    {
        var (terminating, _) = store.List("namespaces", null, n => n["metadata"]?["deletionTimestamp"] is not null);
        foreach (var ns in terminating)
        {
            if (RemoveContents(ns.Name) == 0)
            {
                Finalize(ns.Name);
            }
        }
    }

    /// <summary>Deletes what is not yet being deleted; returns how many objects are left.</summary>
    private int RemoveContents(string ns)
    {
        var left = 0;
        foreach (var resource in Contents)
        {
            var (items, _) = store.List(resource.Key, ns, _ => true);
            left += items.Count;
            foreach (var item in items.Where(i => i.Parse()["metadata"]?["deletionTimestamp"] is null))
            {
                try
                {
                    writes.Delete(new RequestInfo("delete", resource, ns, item.Name, null), Identity);
                }
                catch (ApiError e) when (e.Code == 404)
                {
                    // Gone meanwhile.
                }
            }
        }
        return left;
    }

    private void Finalize(string name)
    {
        store.Write("namespaces", "", name, (current, _) =>
        {
            if (current is null || Contents.Any(r => store.List(r.Key, name, _ => true).Items.Count > 0))
            {
                return new StoreChange.Nothing();
            }
            var spec = current["spec"] as JsonObject ?? new JsonObject();
            var finalizers = (spec["finalizers"] as JsonArray ?? []).Where(f => f?.ToString() != "kubernetes").Select(f => f?.DeepClone()).ToArray();
            spec["finalizers"] = new JsonArray(finalizers);
            current["spec"] = spec;
            if (finalizers.Length == 0 && (current["metadata"]?["finalizers"] as JsonArray ?? []).Count == 0)
            {
                return new StoreChange.Remove();
            }
            return new StoreChange.Put(current);
        });
    }
}
