using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Volumes;
using NodeAgent.Runtime;
using NodeAgent.Tests.Kubelet.Pods;
using NodeAgent.TestApiServer;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>
/// The in-process test API server (no controllers) with an admin and the node credentials of n1 and n2, and the
/// kubelet's API-backed volumes of node n1 over a pods directory of its own; everything removed at the end.
/// </summary>
public sealed class ApiServerNode : IAsyncLifetime
{
    public static readonly ApiResource<V1ServiceAccount, V1ServiceAccountList> ServiceAccounts = new("", "v1", "serviceaccounts", "ServiceAccount", true);

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("nodeagent-apivol-").FullName;

    public TestApiServerHost Server { get; private set; } = null!;

    public KubeApiConnection Admin { get; private set; } = null!;

    /// <summary>The node n1's credential (client certificate system:node:n1).</summary>
    public KubeApiConnection Node { get; private set; } = null!;

    public string PodsRoot => Path.Combine(Directory, "pods");

    public async Task InitializeAsync()
    {
        Server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = Path.Combine(Directory, "api"), Nodes = ["n1", "n2"], RunControllers = false });
        Admin = new KubeApiConnection(KubeConfigLoader.LoadFile(Server.AdminKubeconfig));
        Node = new KubeApiConnection(KubeConfigLoader.LoadFile(Server.NodeKubeconfig("n1")));
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        Node.Dispose();
        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    /// <summary>n1's object reader: no caching, so each test sees the server's present state.</summary>
    public ApiPodObjects Objects() => new(Node, TimeProvider.System, NullLogger<ApiPodObjects>.Instance) { Ttl = TimeSpan.Zero };

    internal (ApiVolumes Volumes, RecordingEvents Events) Volumes(TimeSpan? refresh = null)
    {
        var events = new RecordingEvents(new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System));
        var volumes = new ApiVolumes(PodsRoot, Objects(), VolumeHost.Instance, events, TimeProvider.System, NullLogger<ApiVolumes>.Instance)
        {
            RefreshPeriod = refresh ?? TimeSpan.FromMinutes(1),
        };
        return (volumes, events);
    }

    public Task<V1ConfigMap> CreateConfigMapAsync(string name, Dictionary<string, string> data, string ns = "default") =>
        new ResourceClient<V1ConfigMap, V1ConfigMapList>(Admin, KubeResources.ConfigMaps)
            .CreateAsync(new V1ConfigMap { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Data = data });

    public Task<V1ConfigMap> UpdateConfigMapAsync(V1ConfigMap map) =>
        new ResourceClient<V1ConfigMap, V1ConfigMapList>(Admin, KubeResources.ConfigMaps).UpdateAsync(map);

    public Task<V1Secret> CreateSecretAsync(string name, Dictionary<string, byte[]> data, string ns = "default") =>
        new ResourceClient<V1Secret, V1SecretList>(Admin, KubeResources.Secrets)
            .CreateAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns }, Data = data });

    public Task<V1ServiceAccount> CreateServiceAccountAsync(string name, string ns = "default") =>
        new ResourceClient<V1ServiceAccount, V1ServiceAccountList>(Admin, ServiceAccounts)
            .CreateAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns } });

    /// <summary>Creates the pod in the server bound to <paramref name="node"/> and returns it as the server has it
    /// (with its UID), which is how the kubelet receives it.</summary>
    public Task<V1Pod> CreatePodAsync(string name, Action<V1PodSpec> spec, string node = "n1", string ns = "default", IDictionary<string, string>? labels = null)
    {
        var s = new V1PodSpec { NodeName = node, Containers = [new V1Container { Name = "c", Image = "busybox:1" }] };
        spec(s);
        return new ResourceClient<V1Pod, V1PodList>(Admin, KubeResources.Pods)
            .CreateAsync(new V1Pod { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels }, Spec = s });
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
}
