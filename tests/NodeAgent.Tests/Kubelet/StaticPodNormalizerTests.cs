using System.Security.Cryptography;
using System.Text;
using k8s;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Kubelet;

/// <summary>Static pod identity and API server defaulting, as kubelet's config/common.go applyDefaults.</summary>
public class StaticPodNormalizerTests
{
    private const string Manifest = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          labels:
            app: web
        spec:
          containers:
          - name: web
            image: nginx:1.27
            ports:
            - containerPort: 80
          - name: sidecar
            image: busybox
            livenessProbe:
              httpGet:
                port: 8080
        """;

    private static k8s.Models.V1Pod DecodeOne(string content, string origin = "/etc/agent/manifests/web.yaml", string node = "Node1", string source = PodSourceNames.File)
    {
        var result = new PodManifestDecoder(node, source).Decode(origin, content);
        Assert.Empty(result.Errors);
        return Assert.Single(result.Pods);
    }

    [Fact]
    public void StaticPodGetsNodeSuffixedNameNamespaceAndNodeName()
    {
        var pod = DecodeOne(Manifest);

        Assert.Equal("web-node1", pod.Metadata.Name);
        Assert.Equal("default", pod.Metadata.NamespaceProperty);
        Assert.Equal("Node1", pod.Spec.NodeName);
        Assert.Equal("Pending", pod.Status.Phase);
        Assert.Equal("v1", pod.ApiVersion);
        Assert.Equal("Pod", pod.Kind);
    }

    [Fact]
    public void UidIsTheMd5OfTheDefaultedPodNodeAndPathAndIsTheConfigHash()
    {
        var pod = DecodeOne(Manifest);

        var reference = k8s.KubernetesJson.Deserialize<k8s.Models.V1Pod>(System.Text.Encoding.UTF8.GetString(NodeAgent.Kubelet.Config.YamlJson.Convert(Manifest).Json));
        PodDefaults.Apply(reference);
        var expected = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(
            KubernetesJson.Serialize(reference) + "host:Node1" + "file:/etc/agent/manifests/web.yaml")));
        Assert.Equal(expected, pod.Metadata.Uid);
        Assert.Equal(pod.Metadata.Uid, pod.Metadata.Annotations[ConfigAnnotations.Hash]);
        Assert.Equal("file", pod.Metadata.Annotations[ConfigAnnotations.Source]);
    }

    [Fact]
    public void UidChangesWithContentNodeAndPathButNotWithWhitespace()
    {
        var uid = DecodeOne(Manifest).Metadata.Uid;

        Assert.Equal(uid, DecodeOne(Manifest + "\n\n# comment\n").Metadata.Uid);
        Assert.NotEqual(uid, DecodeOne(Manifest.Replace("nginx:1.27", "nginx:1.28", StringComparison.Ordinal)).Metadata.Uid);
        Assert.NotEqual(uid, DecodeOne(Manifest, node: "node2").Metadata.Uid);
        Assert.NotEqual(uid, DecodeOne(Manifest, origin: "/etc/agent/manifests/other.yaml").Metadata.Uid);
    }

    [Fact]
    public void HttpPodsHashTheUrlAndGetNoToleration()
    {
        var pod = DecodeOne(Manifest, origin: "http://10.0.0.1/pods", source: PodSourceNames.Http);

        var reference = k8s.KubernetesJson.Deserialize<k8s.Models.V1Pod>(System.Text.Encoding.UTF8.GetString(NodeAgent.Kubelet.Config.YamlJson.Convert(Manifest).Json));
        PodDefaults.Apply(reference);
        var expected = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(reference) + "url:http://10.0.0.1/pods")));
        Assert.Equal(expected, pod.Metadata.Uid);
        Assert.Equal("http", pod.Metadata.Annotations[ConfigAnnotations.Source]);
        Assert.Null(pod.Spec.Tolerations);
    }

    [Fact]
    public void ExplicitUidIsKept()
    {
        var pod = DecodeOne(Manifest.Replace("  name: web\n", "  name: web\n  uid: \"1234\"\n", StringComparison.Ordinal));

        Assert.Equal("1234", pod.Metadata.Uid);
        Assert.Equal("1234", pod.Metadata.Annotations[ConfigAnnotations.Hash]);
    }

    [Fact]
    public void FilePodsTolerateEveryNoExecuteTaintOnce()
    {
        var pod = DecodeOne(Manifest + "\n  tolerations:\n  - operator: Exists\n    effect: NoExecute\n  - key: a\n    operator: Exists\n");

        Assert.Equal(2, pod.Spec.Tolerations.Count);
        Assert.Contains(pod.Spec.Tolerations, t => t.Key is null && t.OperatorProperty == "Exists" && t.Effect == "NoExecute");
    }

    [Fact]
    public void ApiServerDefaultsAreApplied()
    {
        var pod = DecodeOne(Manifest);

        Assert.Equal("Always", pod.Spec.RestartPolicy);
        Assert.Equal(30, pod.Spec.TerminationGracePeriodSeconds);
        Assert.Equal("ClusterFirst", pod.Spec.DnsPolicy);
        Assert.Equal("default-scheduler", pod.Spec.SchedulerName);
        Assert.NotNull(pod.Spec.SecurityContext);
        Assert.True(pod.Spec.EnableServiceLinks);
        var web = pod.Spec.Containers[0];
        Assert.Equal("IfNotPresent", web.ImagePullPolicy);
        Assert.Equal("/dev/termination-log", web.TerminationMessagePath);
        Assert.Equal("File", web.TerminationMessagePolicy);
        Assert.Equal("TCP", web.Ports[0].Protocol);
        var sidecar = pod.Spec.Containers[1];
        Assert.Equal("Always", sidecar.ImagePullPolicy);
        Assert.Equal(1, sidecar.LivenessProbe.TimeoutSeconds);
        Assert.Equal(10, sidecar.LivenessProbe.PeriodSeconds);
        Assert.Equal(1, sidecar.LivenessProbe.SuccessThreshold);
        Assert.Equal(3, sidecar.LivenessProbe.FailureThreshold);
        Assert.Equal("HTTP", sidecar.LivenessProbe.HttpGet.Scheme);
    }

    [Theory]
    [InlineData("nginx", "Always")]
    [InlineData("nginx:latest", "Always")]
    [InlineData("registry:5000/nginx", "Always")]
    [InlineData("registry:5000/nginx:1.27", "IfNotPresent")]
    [InlineData("nginx:1.27", "IfNotPresent")]
    [InlineData("nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent")]
    [InlineData("nginx:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "Always")]
    [InlineData("Not/Valid", "IfNotPresent")]
    public void ImagePullPolicyDefaultsFromTheTag(string image, string policy) =>
        Assert.Equal(policy, PodDefaults.DefaultPullPolicy(image));

    [Fact]
    public void ExplicitFieldsAreNotOverwritten()
    {
        var pod = DecodeOne(Manifest.Replace("spec:\n", "spec:\n  restartPolicy: Never\n  dnsPolicy: Default\n", StringComparison.Ordinal)
            .Replace("    image: nginx:1.27\n", "    image: nginx:1.27\n    imagePullPolicy: Never\n", StringComparison.Ordinal)
            .Replace("metadata:\n", "metadata:\n  namespace: kube-system\n", StringComparison.Ordinal));

        Assert.Equal("Never", pod.Spec.RestartPolicy);
        Assert.Equal("Default", pod.Spec.DnsPolicy);
        Assert.Equal("Never", pod.Spec.Containers[0].ImagePullPolicy);
        Assert.Equal("kube-system", pod.Metadata.NamespaceProperty);
    }

    [Fact]
    public void JsonManifestIsDecoded()
    {
        var pod = DecodeOne("""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"api"},
             "spec":{"containers":[{"name":"api","image":"busybox:1.36","ports":[{"containerPort":8080}]}]}}
            """, origin: "/m/api.json");

        Assert.Equal("api-node1", pod.Metadata.Name);
        Assert.Equal(8080, pod.Spec.Containers[0].Ports[0].ContainerPort);
    }

    [Fact]
    public void MultiDocumentYamlAndPodListsYieldEveryPod()
    {
        var content = Manifest + "\n---\n" + Manifest.Replace("name: web\n  labels", "name: api\n  labels", StringComparison.Ordinal) + "\n---\n" + """
            apiVersion: v1
            kind: PodList
            items:
            - metadata:
                name: one
              spec:
                containers:
                - name: app
                  image: busybox:1.36
            - metadata:
                name: two
              spec:
                containers:
                - name: app
                  image: busybox:1.36
            """ + "\n---\n";
        var result = new PodManifestDecoder("node1", PodSourceNames.File).Decode("/m/all.yaml", content);

        Assert.Empty(result.Errors);
        Assert.Equal(["web-node1", "api-node1", "one-node1", "two-node1"], result.Pods.Select(p => p.Metadata.Name));
        Assert.Equal(4, result.Pods.Select(p => p.Metadata.Uid).Distinct().Count());
    }

    [Fact]
    public void SeenTimeIsRfc3339NanoUtc()
    {
        Assert.Equal("2026-11-22T21:17:45.1234567Z", PodConfig.FormatRfc3339Nano(new DateTimeOffset(2026, 11, 22, 21, 17, 45, TimeSpan.Zero).AddTicks(1234567)));
        Assert.Equal("2026-11-22T21:17:45.5Z", PodConfig.FormatRfc3339Nano(new DateTimeOffset(2026, 11, 22, 23, 17, 45, 500, TimeSpan.FromHours(2))));
        Assert.Equal("2026-11-22T21:17:45Z", PodConfig.FormatRfc3339Nano(new DateTimeOffset(2026, 11, 22, 21, 17, 45, TimeSpan.Zero)));
    }

    [Fact]
    public void ManifestUrlHeadersParseLikeKubelet()
    {
        var headers = ManifestUrlHeaders.Parse(["a:hello,b:again,c:world", "b:beautiful", "Authorization: Bearer x:y"]);

        Assert.Equal(["hello"], headers["a"]);
        Assert.Equal(["again", "beautiful"], headers["b"]);
        Assert.Equal(["Bearer x:y"], headers["authorization"]);
        Assert.Throws<FormatException>(() => ManifestUrlHeaders.Parse(["novalue"]));
    }
}
