using System.Text.Json.Nodes;
using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>Pod spec immutability on update and patch, and namespace deletion through Terminating until empty.</summary>
public sealed class LifecycleRulesTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>
{
    private const string Immutable = "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

    private string Admin => fixture.Server.AdminKubeconfig;

    private static async Task<Kubectl.Result> Ok(Task<Kubectl.Result> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    private static async Task<Kubectl.Result> Fails(Task<Kubectl.Result> run)
    {
        var result = await run;
        Assert.True(result.ExitCode != 0, result.ToString());
        return result;
    }

    private static string Pod(string name, string ns = "default", string extra = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}, namespace: {{ns}}}
        spec:
          {{extra}}containers:
          - name: c
            image: busybox:1
        """;

    [Fact]
    public async Task PodSpecChangesOtherThanTheAllowedOnesAreRefused()
    {
        await Ok(Kubectl.RunAsync(Admin, "create -f -", Pod("frozen")));
        var ports = await Fails(Kubectl.RunAsync(Admin, "patch pod frozen -p '{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":80}]}]}}'"));
        Assert.Contains("The Pod \"frozen\" is invalid: " + Immutable, ports.Stderr);
        var restart = await Fails(Kubectl.RunAsync(Admin, "patch pod frozen --type=merge -p '{\"spec\":{\"restartPolicy\":\"Never\"}}'"));
        Assert.Contains(Immutable, restart.Stderr);
        Assert.Contains("spec.restartPolicy", restart.Stderr);
        var untolerate = await Fails(Kubectl.RunAsync(Admin, "patch pod frozen --type=json -p '[{\"op\":\"remove\",\"path\":\"/spec/tolerations/0\"}]'"));
        Assert.Contains(Immutable, untolerate.Stderr);

        // What may change: images, added tolerations, a lower activeDeadlineSeconds; labels anyway.
        await Ok(Kubectl.RunAsync(Admin, "set image pod/frozen c=busybox:2"));
        await Ok(Kubectl.RunAsync(Admin, "patch pod frozen --type=json -p '[{\"op\":\"add\",\"path\":\"/spec/tolerations/-\",\"value\":{\"key\":\"k\",\"operator\":\"Exists\"}}]'"));
        await Ok(Kubectl.RunAsync(Admin, "patch pod frozen -p '{\"spec\":{\"activeDeadlineSeconds\":100}}'"));
        await Ok(Kubectl.RunAsync(Admin, "patch pod frozen -p '{\"spec\":{\"activeDeadlineSeconds\":50}}'"));
        var higher = await Fails(Kubectl.RunAsync(Admin, "patch pod frozen -p '{\"spec\":{\"activeDeadlineSeconds\":60}}'"));
        Assert.Contains("spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value", higher.Stderr);
        await Ok(Kubectl.RunAsync(Admin, "label pod frozen changed=yes"));

        // A PUT of the manifest as written (no server defaults in it) is defaulted as on create, so only the image differs.
        var json = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "get pod frozen -o json"))).Stdout)!;
        var replaced = Pod("frozen", extra: $"activeDeadlineSeconds: 50\n  tolerations: {json["spec"]!["tolerations"]!.ToJsonString()}\n  ").Replace("busybox:1", "busybox:3");
        await Ok(Kubectl.RunAsync(Admin, "replace -f -", replaced));
        Assert.Equal("busybox:3", (await Ok(Kubectl.RunAsync(Admin, "get pod frozen -o jsonpath={.spec.containers[0].image}"))).Stdout);

        // The client layer sees the 422 too: a pod may not be moved by an update (binding is the only way).
        using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(Admin));
        var pods = new ResourceClient<V1Pod, V1PodList>(connection, KubeResources.Pods);
        var pod = await pods.GetAsync("default", "frozen");
        pod.Spec.NodeName = "n1";
        var moved = await Assert.ThrowsAsync<ApiException>(() => pods.UpdateAsync(pod));
        Assert.Equal(422, (int)moved.StatusCode);
        Assert.Contains("spec.nodeName", moved.Message);
        await Ok(Kubectl.RunAsync(Admin, "delete pod frozen"));
    }

    [Fact]
    public async Task ADeletedNamespaceTerminatesUntilItsContentsAreGone()
    {
        await Ok(Kubectl.RunAsync(Admin, "create namespace doomed"));
        await Ok(Kubectl.RunAsync(Admin, "-n doomed create configmap plain --from-literal=a=1"));
        await Ok(Kubectl.RunAsync(Admin, "-n doomed create secret generic s --from-literal=a=1"));
        await Ok(Kubectl.RunAsync(Admin, "create -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: doomed, finalizers: [example.com/hold]}\n"));
        await Ok(Kubectl.RunAsync(Admin, "create -f -", Pod("loose", "doomed")));
        await Ok(Kubectl.RunAsync(Admin, "create -f -", Pod("bound", "doomed", "nodeName: n1\n  ")));

        await Ok(Kubectl.RunAsync(Admin, "delete namespace doomed --wait=false"));
        Assert.Matches(@"doomed\s+Terminating", (await Ok(Kubectl.RunAsync(Admin, "get namespace doomed"))).Stdout);
        var refused = await Fails(Kubectl.RunAsync(Admin, "-n doomed create configmap late --from-literal=a=1"));
        Assert.Contains("configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated", refused.Stderr);

        // The controller deletes what it can at once; the bound pod waits for its kubelet, the held configmap for its finalizer.
        using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(Admin));
        var configMaps = new ResourceClient<V1ConfigMap, V1ConfigMapList>(connection, new ApiResource<V1ConfigMap, V1ConfigMapList>("", "v1", "configmaps", "ConfigMap", true));
        var pods = new ResourceClient<V1Pod, V1PodList>(connection, KubeResources.Pods);
        await Ok(Kubectl.RunAsync(Admin, "-n doomed wait --for=delete pod/loose configmap/plain secret/s --timeout=20s"));
        Assert.NotNull((await pods.GetAsync("doomed", "bound")).Metadata.DeletionTimestamp);
        Assert.NotNull((await configMaps.GetAsync("doomed", "held")).Metadata.DeletionTimestamp);
        Assert.Matches(@"doomed\s+Terminating", (await Ok(Kubectl.RunAsync(Admin, "get namespace doomed"))).Stdout);

        using var node = new KubeApiConnection(KubeConfigLoader.LoadFile(fixture.Server.NodeKubeconfig("n1")));
        await new ResourceClient<V1Pod, V1PodList>(node, KubeResources.Pods).DeleteAsync("doomed", "bound", new DeleteOptions { GracePeriodSeconds = 0 });
        await Ok(Kubectl.RunAsync(Admin, "-n doomed patch configmap held --type=merge -p '{\"metadata\":{\"finalizers\":null}}'"));
        await Ok(Kubectl.RunAsync(Admin, "wait --for=delete namespace/doomed --timeout=20s"));
        Assert.Contains("namespaces \"doomed\" not found", (await Fails(Kubectl.RunAsync(Admin, "get namespace doomed"))).Stderr);
    }

    [Fact]
    public async Task EvictionHonoursThePodDisruptionBudget()
    {
        await Ok(Kubectl.RunAsync(Admin, "create namespace budgeted"));
        await Ok(Kubectl.RunAsync(Admin, "create -f -", "apiVersion: v1\nkind: Node\nmetadata: {name: budget-node}\n"));
        await Ok(Kubectl.RunAsync(Admin, "create -f -", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: keep2, namespace: budgeted}\nspec: {minAvailable: 2, selector: {matchLabels: {app: db}}}\n"));
        using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(Admin));
        var pods = new ResourceClient<V1Pod, V1PodList>(connection, KubeResources.Pods);
        foreach (var name in new[] { "db0", "db1", "db2" })
        {
            await Ok(Kubectl.RunAsync(Admin, "create -f -", Pod(name, "budgeted", "nodeName: budget-node\n  ").Replace($"name: {name},", $"name: {name}, labels: {{app: db}},")));
            await pods.PatchAsync("budgeted", name, PatchType.StrategicMerge,
                """{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}""", "status");
        }
        async Task<ApiException?> Evict(string name)
        {
            try
            {
                using var response = await connection.SendAsync(HttpMethod.Post, $"/api/v1/namespaces/budgeted/pods/{name}/eviction",
                    System.Text.Encoding.UTF8.GetBytes($$$"""{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"{{{name}}}","namespace":"budgeted"}}"""),
                    "application/json", false, CancellationToken.None);
                return null;
            }
            catch (ApiException e)
            {
                return e;
            }
        }
        // Three healthy, two needed: one may go (it then terminates: bound to a node), the next may not.
        Assert.Null(await Evict("db0"));
        Assert.NotNull((await pods.GetAsync("budgeted", "db0")).Metadata.DeletionTimestamp);
        var refused = await Evict("db1");
        Assert.NotNull(refused);
        Assert.Equal(429, (int)refused.StatusCode);
        Assert.Contains("Cannot evict pod as it would violate the pod's disruption budget.", refused.Message);
        Assert.Contains("The disruption budget keep2 needs 2 healthy pods and has 2 currently", refused.Status!.Details.Causes[0].Message);

        // kubectl drain reports the same refusal and gives up at its timeout.
        var drain = await Fails(Kubectl.RunAsync(Admin, "drain budget-node --force --pod-selector app=db --timeout=3s"));
        Assert.True((drain.Stdout + drain.Stderr).Contains("Cannot evict pod as it would violate the pod's disruption budget.", StringComparison.Ordinal), drain.ToString());

        // A budget no pod can meet still lets a pod that is not running go.
        await Ok(Kubectl.RunAsync(Admin, "create -f -", Pod("pending", "budgeted").Replace("name: pending,", "name: pending, labels: {app: db},")));
        Assert.Null(await Evict("pending"));
        await Ok(Kubectl.RunAsync(Admin, "uncordon budget-node"));
    }

    [Fact]
    public async Task TheSystemNamespacesMayNotBeDeleted()
    {
        var result = await Fails(Kubectl.RunAsync(Admin, "delete namespace kube-system"));
        Assert.Contains("namespaces \"kube-system\" is forbidden: this namespace may not be deleted", result.Stderr);
    }
}
