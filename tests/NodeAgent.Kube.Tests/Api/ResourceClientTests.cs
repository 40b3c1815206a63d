using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Patches;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.Api;

/// <summary>Typed requests against the test server, as the node identity and as admin.</summary>
public sealed class ResourceClientTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>, IDisposable
{
    private readonly KubeApiConnection _admin = new(KubeConfigLoader.LoadFile(fixture.Server.AdminKubeconfig));
    private readonly KubeApiConnection _n1 = new(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n1")));
    private readonly KubeApiConnection _n2 = new(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n2")));

    public void Dispose()
    {
        _admin.Dispose();
        _n1.Dispose();
        _n2.Dispose();
    }

    private static V1Pod Pod(string name, string? node) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Labels = new Dictionary<string, string> { ["app"] = name } },
        Spec = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Image = "busybox:1" }] },
    };

    [Fact]
    public async Task ANodeWritesPodStatusWithAStrategicMergePatchBuiltFromTypedObjects()
    {
        var adminPods = new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods);
        var created = await adminPods.CreateAsync(Pod("status-pod", "n1"));
        Assert.Equal("Pending", created.Status.Phase);

        var modified = k8s.KubernetesJson.Deserialize<V1Pod>(k8s.KubernetesJson.Serialize(created));
        modified.Status.Phase = "Running";
        modified.Status.PodIP = "10.1.0.5";
        modified.Status.Conditions = [new V1PodCondition { Type = "Ready", Status = "True" }, new V1PodCondition { Type = "Initialized", Status = "True" }];
        modified.Spec.Containers[0].Image = "ignored:2";
        var patch = PatchBuilder.StrategicMerge(created, modified);
        Assert.Contains("\"$setElementOrder/conditions\"", patch);

        var n1Pods = new ResourceClient<V1Pod, V1PodList>(_n1, KubeResources.Pods);
        var patched = await n1Pods.PatchAsync("default", "status-pod", PatchType.StrategicMerge, patch, "status");
        Assert.Equal("Running", patched.Status.Phase);
        Assert.Equal(["Ready", "Initialized"], patched.Status.Conditions.Select(c => c.Type));
        // The status subresource changes status only.
        Assert.Equal("busybox:1", patched.Spec.Containers[0].Image);

        // Another node may not.
        var n2Pods = new ResourceClient<V1Pod, V1PodList>(_n2, KubeResources.Pods);
        var e = await Assert.ThrowsAsync<ApiException>(() => n2Pods.PatchAsync("default", "status-pod", PatchType.StrategicMerge, patch, "status"));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Equal("pods \"status-pod\" is forbidden: node \"n2\" can only update pod status for pods with spec.nodeName set to itself", e.Status!.Message);

        // A write to the main resource keeps the status.
        var again = await adminPods.GetAsync("default", "status-pod");
        again.Metadata.Labels["touched"] = "yes";
        again.Status.Phase = "Failed";
        var updated = await adminPods.UpdateAsync(again);
        Assert.Equal("Running", updated.Status.Phase);
        Assert.Equal("yes", updated.Metadata.Labels["touched"]);
    }

    [Fact]
    public async Task JsonAndMergePatchesFromTypedObjects()
    {
        var maps = new ResourceClient<V1ConfigMap, V1ConfigMapList>(_admin, KubeResources.ConfigMaps);
        var original = await maps.CreateAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "patched", NamespaceProperty = "default" },
            Data = new Dictionary<string, string> { ["a"] = "1", ["b/c"] = "2" },
        });
        var next = k8s.KubernetesJson.Deserialize<V1ConfigMap>(k8s.KubernetesJson.Serialize(original));
        next.Data.Remove("b/c");
        next.Data["d"] = "4";
        var json = await maps.PatchAsync("default", "patched", PatchType.Json, PatchBuilder.Json(original, next));
        Assert.Equal(["a", "d"], json.Data.Keys.Order());

        var merged = k8s.KubernetesJson.Deserialize<V1ConfigMap>(k8s.KubernetesJson.Serialize(json));
        merged.Data["a"] = "9";
        var result = await maps.PatchAsync("default", "patched", PatchType.JsonMerge, PatchBuilder.JsonMerge(json, merged));
        Assert.Equal("9", result.Data["a"]);
    }

    [Fact]
    public async Task ConflictRetryRereadsAfterAStaleWrite()
    {
        var maps = new ResourceClient<V1ConfigMap, V1ConfigMapList>(_admin, KubeResources.ConfigMaps);
        await maps.CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = "counter", NamespaceProperty = "default" }, Data = new Dictionary<string, string> { ["n"] = "0" } });
        var interfered = false;
        var result = await ConflictRetry.UpdateAsync(
            async ct =>
            {
                var current = await maps.GetAsync("default", "counter", ct);
                if (!interfered)
                {
                    // Someone else writes between our read and our write: our update must get 409 and retry.
                    interfered = true;
                    var other = await maps.GetAsync("default", "counter", ct);
                    other.Data["n"] = "10";
                    await maps.UpdateAsync(other, ct);
                }
                return current;
            },
            cm =>
            {
                cm.Data["n"] = (int.Parse(cm.Data["n"], System.Globalization.CultureInfo.InvariantCulture) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return true;
            },
            (cm, ct) => maps.UpdateAsync(cm, ct));
        Assert.Equal("11", result.Data["n"]);

        var stale = await maps.GetAsync("default", "counter");
        await maps.PatchAsync("default", "counter", PatchType.JsonMerge, "{\"data\":{\"n\":\"12\"}}");
        var e = await Assert.ThrowsAsync<ApiException>(() => maps.UpdateAsync(stale));
        Assert.True(e.IsConflict);
        Assert.Equal("Conflict", e.Reason);
    }

    [Fact]
    public async Task ListPagesAndSelectors()
    {
        var pods = new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods);
        for (var i = 0; i < 7; i++)
        {
            await pods.CreateAsync(Pod($"page{i}", i % 2 == 0 ? "n1" : null));
        }
        var names = new List<string>();
        string? cont = null;
        var pages = 0;
        do
        {
            var page = await pods.ListAsync("default", new ListOptions { LabelSelector = "app in (page0,page1,page2,page3,page4,page5,page6)", Limit = 3, Continue = cont });
            names.AddRange(page.Items.Select(p => p.Metadata.Name));
            cont = page.Metadata.ContinueProperty;
            pages++;
        }
        while (!string.IsNullOrEmpty(cont));
        Assert.Equal(3, pages);
        Assert.Equal(7, names.Count);
        var onNode = await pods.ListAsync(null, new ListOptions { FieldSelector = "spec.nodeName=n1,metadata.namespace=default", LabelSelector = "app!=page2" });
        Assert.Equal(["page0", "page4", "page6"], onNode.Items.Select(p => p.Metadata.Name).Where(n => n.StartsWith("page", StringComparison.Ordinal)).Order());
        var bad = await Assert.ThrowsAsync<ApiException>(() => pods.ListAsync(null, new ListOptions { FieldSelector = "spec.image=x" }));
        Assert.Equal("field label not supported: spec.image", bad.Status!.Message);
    }

    [Fact]
    public async Task APodBoundToANodeStaysUntilTheNodeDeletesItWithGraceZero()
    {
        var adminPods = new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods);
        await adminPods.CreateAsync(Pod("graceful", "n1"));
        var terminating = await adminPods.DeleteAsync("default", "graceful");
        Assert.NotNull(terminating?.Metadata.DeletionTimestamp);
        Assert.Equal(30, terminating!.Metadata.DeletionGracePeriodSeconds);
        var n1Pods = new ResourceClient<V1Pod, V1PodList>(_n1, KubeResources.Pods);
        await n1Pods.DeleteAsync("default", "graceful", new DeleteOptions { GracePeriodSeconds = 0, PreconditionUid = terminating.Metadata.Uid });
        var e = await Assert.ThrowsAsync<ApiException>(() => adminPods.GetAsync("default", "graceful"));
        Assert.True(e.IsNotFound);
    }

    [Fact]
    public void NamesThatWouldChangeThePathAreRefused()
    {
        var pods = new ResourceClient<V1Pod, V1PodList>(_admin, KubeResources.Pods);
        foreach (var name in new[] { "../nodes", "a/b", "%2e%2e", "..", "" })
        {
            Assert.Throws<ArgumentException>(() => { _ = pods.GetAsync("default", name); });
        }
    }
}
