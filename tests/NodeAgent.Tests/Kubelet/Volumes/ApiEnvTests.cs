using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Tests.Kubelet.Volumes;

/// <summary>kubelet's makeEnvironmentVariables against the test API server with n1's credential: configMapKeyRef,
/// secretKeyRef, envFrom with prefixes and skipped keys, service links, and the CreateContainerConfigError messages.</summary>
public class ApiEnvTests(ApiServerNode node) : IClassFixture<ApiServerNode>
{
    private async Task<Dictionary<string, string>> ResolveAsync(V1Pod pod)
    {
        var container = pod.Spec.Containers[0];
        var context = new PodEnvContext("192.0.2.1", ["10.88.0.2"]) { Api = await EnvApiValues.LoadAsync(pod, container, node.Objects(), CancellationToken.None) };
        return EnvResolver.Resolve(pod, container, context).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    private static V1EnvVar FromConfigMap(string name, string map, string key, bool? optional = null) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { ConfigMapKeyRef = new V1ConfigMapKeySelector { Name = map, Key = key, Optional = optional } } };

    private static V1EnvVar FromSecret(string name, string secret, string key, bool? optional = null) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key, Optional = optional } } };

    [Fact]
    public async Task KeyRefsAndEnvFromReachTheEnvironmentWithEnvWinning()
    {
        var map = ApiServerNode.Unique("cfg");
        var secret = ApiServerNode.Unique("sec");
        await node.CreateConfigMapAsync(map, new() { ["MODE"] = "fast", ["LEVEL"] = "3", ["bad=key"] = "x" });
        await node.CreateSecretAsync(secret, new() { ["password"] = "hunter2"u8.ToArray(), ["TOKEN"] = "t"u8.ToArray() });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.EnableServiceLinks = false;
            s.Containers[0].EnvFrom =
            [
                new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = map } },
                new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = secret }, Prefix = "S_" },
            ];
            s.Containers[0].Env =
            [
                FromSecret("DB_PASSWORD", secret, "password"),
                FromConfigMap("LEVEL", map, "MODE"),
                new V1EnvVar { Name = "URL", Value = "$(MODE)://$(S_TOKEN)" },
                FromConfigMap("ABSENT", map, "nokey", optional: true),
            ];
        });

        var env = await ResolveAsync(pod);
        Assert.Equal("hunter2", env["DB_PASSWORD"]);
        Assert.Equal("fast", env["MODE"]);
        Assert.Equal("fast", env["LEVEL"]);
        Assert.Equal("hunter2", env["S_password"]);
        Assert.Equal("fast://t", env["URL"]);
        Assert.False(env.ContainsKey("ABSENT"));
        Assert.False(env.ContainsKey("bad=key"));
        // Only the master service without service links.
        Assert.Equal("10.96.0.1", env["KUBERNETES_SERVICE_HOST"]);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("WEB", StringComparison.Ordinal));

        var context = new PodEnvContext(null, []) { Api = await EnvApiValues.LoadAsync(pod, pod.Spec.Containers[0], node.Objects(), CancellationToken.None) };
        var warning = Assert.Single(EnvResolver.InvalidEnvFromKeys(pod, pod.Spec.Containers[0], context));
        Assert.Equal($"Keys [bad=key] from the EnvFrom configMap default/{map} were skipped since they are considered invalid environment variable names.", warning);
    }

    [Fact]
    public async Task MissingObjectsAndKeysGiveKubeletsMessages()
    {
        var map = ApiServerNode.Unique("cfg");
        await node.CreateConfigMapAsync(map, new() { ["a"] = "1" });
        var missingMap = ApiServerNode.Unique("nomap");
        var missingSecret = ApiServerNode.Unique("nosec");

        async Task<string> Fails(Action<V1Container> container)
        {
            var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => container(s.Containers[0]));
            return (await Assert.ThrowsAsync<ContainerConfigException>(() => ResolveAsync(pod))).Message;
        }

        Assert.Equal($"configmap \"{missingMap}\" not found", await Fails(c => c.Env = [FromConfigMap("X", missingMap, "a")]));
        Assert.Equal($"couldn't find key zz in ConfigMap default/{map}", await Fails(c => c.Env = [FromConfigMap("X", map, "zz")]));
        Assert.Equal($"secret \"{missingSecret}\" not found", await Fails(c => c.Env = [FromSecret("X", missingSecret, "k")]));
        Assert.Equal($"configmap \"{missingMap}\" not found", await Fails(c => c.EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = missingMap } }]));

        var optional = await node.CreatePodAsync(ApiServerNode.Unique("p"), s =>
        {
            s.Containers[0].Env = [FromSecret("X", missingSecret, "k", optional: true), new V1EnvVar { Name = "Y", Value = "y" }];
            s.Containers[0].EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = missingMap, Optional = true } }];
        });
        var env = await ResolveAsync(optional);
        Assert.Equal("y", env["Y"]);
        Assert.False(env.ContainsKey("X"));
    }

    [Fact]
    public async Task ServiceLinksCoverTheNamespacesServicesAndTheMasterService()
    {
        var ns = ApiServerNode.Unique("apps");
        await new ResourceClient<V1Namespace, V1NamespaceList>(node.Admin, KubeResources.Namespaces).CreateAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } });
        var web = await new ResourceClient<V1Service, V1ServiceList>(node.Admin, KubeResources.Services).CreateAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "my-web", NamespaceProperty = ns },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Port = 80 }, new V1ServicePort { Name = "dns", Port = 53, Protocol = "UDP" }], Selector = new Dictionary<string, string> { ["app"] = "web" } },
        });
        await new ResourceClient<V1Service, V1ServiceList>(node.Admin, KubeResources.Services).CreateAsync(new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "headless", NamespaceProperty = ns },
            Spec = new V1ServiceSpec { ClusterIP = "None", Ports = [new V1ServicePort { Port = 80 }] },
        });
        var pod = await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.Containers[0].Env = [new V1EnvVar { Name = "MY_WEB_SERVICE_HOST", Value = "mine" }], ns: ns);

        var env = await ResolveAsync(pod);
        var ip = web.Spec.ClusterIP;
        Assert.Equal("mine", env["MY_WEB_SERVICE_HOST"]);
        Assert.Equal("80", env["MY_WEB_SERVICE_PORT"]);
        Assert.Equal("80", env["MY_WEB_SERVICE_PORT_HTTP"]);
        Assert.Equal("53", env["MY_WEB_SERVICE_PORT_DNS"]);
        Assert.Equal($"tcp://{ip}:80", env["MY_WEB_PORT"]);
        Assert.Equal($"tcp://{ip}:80", env["MY_WEB_PORT_80_TCP"]);
        Assert.Equal("tcp", env["MY_WEB_PORT_80_TCP_PROTO"]);
        Assert.Equal("80", env["MY_WEB_PORT_80_TCP_PORT"]);
        Assert.Equal(ip, env["MY_WEB_PORT_80_TCP_ADDR"]);
        Assert.Equal($"udp://{ip}:53", env["MY_WEB_PORT_53_UDP"]);
        Assert.Equal("10.96.0.1", env["KUBERNETES_SERVICE_HOST"]);
        Assert.Equal("tcp://10.96.0.1:443", env["KUBERNETES_PORT"]);
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("HEADLESS", StringComparison.Ordinal));
    }

    [Fact]
    public void HostileServicesAreLeftOut()
    {
        static V1Service Svc(string name, string ip, int port, string? protocol = null) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "ns" },
            Spec = new V1ServiceSpec { ClusterIP = ip, Ports = [new V1ServicePort { Port = port, Protocol = protocol }] },
        };

        var env = ServiceEnv.For(
        [
            Svc("ok", "10.0.0.1", 80),
            Svc("bad-ip", "10.0.0.1\nX=1", 80),
            Svc("bad-port", "10.0.0.2", 70000),
            Svc("bad-proto", "10.0.0.3", 80, "TCP\nX"),
            Svc("BAD=NAME", "10.0.0.4", 80),
            Svc("v6", "fd00::1", 443),
        ], "ns", enableServiceLinks: true);

        Assert.Equal("10.0.0.1", env["OK_SERVICE_HOST"]);
        Assert.Equal("tcp://[fd00::1]:443", env["V6_PORT"]);
        Assert.All(env.Keys, k => Assert.True(k.StartsWith("OK_", StringComparison.Ordinal) || k.StartsWith("V6_", StringComparison.Ordinal), k));
    }

    [Fact]
    public async Task PullSecretsAreReadForThePodsThatNameThem()
    {
        var name = ApiServerNode.Unique("regcred");
        var config = """{"auths":{"registry.example":{"auth":"dTpw"}}}"""u8.ToArray();
        await new ResourceClient<V1Secret, V1SecretList>(node.Admin, KubeResources.Secrets).CreateAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default" },
            Type = "kubernetes.io/dockerconfigjson",
            Data = new Dictionary<string, byte[]> { [".dockerconfigjson"] = config },
        });
        var source = new ApiPullSecrets(node.Objects());

        // No pod of n1 names it yet: the Node authorizer refuses, which reads as not found.
        Assert.Null(await source.GetAsync("default", name, CancellationToken.None));
        await node.CreatePodAsync(ApiServerNode.Unique("p"), s => s.ImagePullSecrets = [new V1LocalObjectReference { Name = name }]);
        var secret = await source.GetAsync("default", name, CancellationToken.None);
        Assert.NotNull(secret);
        Assert.Equal("kubernetes.io/dockerconfigjson", secret.Type);
        Assert.Equal(config, secret.Data[".dockerconfigjson"]);
    }

    [Theory]
    [InlineData("file", null)]
    [InlineData("api", "services have not yet been read at least once, cannot construct envvars: cannot list services: connection refused")]
    public async Task UnreadableServicesStopOnlyPodsFromTheApiServer(string source, string? error)
    {
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "u", Annotations = new Dictionary<string, string> { ["kubernetes.io/config.source"] = source } },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Env = [new V1EnvVar { Name = "A", Value = "a" }] }] },
        };
        var load = EnvApiValues.LoadAsync(pod, pod.Spec.Containers[0], new ServicesUnreadable(), CancellationToken.None);
        if (error is null)
        {
            var values = await load;
            Assert.Empty(values.ServiceEnv);
            Assert.Equal("a", EnvResolver.Resolve(pod, pod.Spec.Containers[0], new PodEnvContext(null, []) { Api = values }).Single().Value);
        }
        else
        {
            Assert.Equal(error, (await Assert.ThrowsAsync<ContainerConfigException>(() => load)).Message);
        }
    }

    /// <summary>An API server that cannot be reached for the service list (the other reads are not asked for).</summary>
    private sealed class ServicesUnreadable : IPodApiObjects
    {
        public bool IsAvailable => true;

        public Task<IReadOnlyList<V1Service>> GetServicesAsync(string ns, CancellationToken cancellationToken) =>
            throw new ApiObjectsException("cannot list services: connection refused");

        public Task<V1ConfigMap?> GetConfigMapAsync(string ns, string name, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<V1Secret?> GetSecretAsync(string ns, string name, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<ServiceAccountToken> GetServiceAccountTokenAsync(V1Pod pod, string? audience, long expirationSeconds, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public void ForgetPod(string podUid)
        {
        }
    }
}
