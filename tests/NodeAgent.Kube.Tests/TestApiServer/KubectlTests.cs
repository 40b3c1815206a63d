using System.Text.Json.Nodes;
using NodeAgent.Kube.Tests.Support;

namespace NodeAgent.Kube.Tests.TestApiServer;

/// <summary>The test API server as the real kubectl 1.32 sees it: no extra flags, default strict validation.</summary>
public sealed class KubectlTests(ApiServerFixture fixture) : IClassFixture<ApiServerFixture>
{
    private string Admin => fixture.Server.AdminKubeconfig;

    private const string PodYaml = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: NAME
          labels: {app: web}
        spec:
          containers:
          - name: c
            image: busybox:1
            env: [{name: A, value: "1"}]
        """;

    private static async Task<Kubectl.Result> Ok(Task<Kubectl.Result> run)
    {
        var result = await run;
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }

    [Fact]
    public async Task MetricsCountRequestsByUserVerbAndResourceForAdminsOnly()
    {
        await Ok(Kubectl.RunAsync(Admin, "get pods -n kube-public"));
        var metrics = await Ok(Kubectl.RunAsync(Admin, "get --raw /metrics"));
        Assert.Matches(@"testapiserver_requests_total\{user=""admin"",verb=""list"",resource=""pods""\} [1-9]", metrics.Stdout);
        var node = await Kubectl.RunAsync(fixture.Server.NodeKubeconfig("n1"), "get --raw /metrics");
        Assert.NotEqual(0, node.ExitCode);
        Assert.Contains("forbidden", node.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CreateGetDescribeApplyPatchDeleteAPod()
    {
        await Ok(Kubectl.RunAsync(Admin, "create -f -", PodYaml.Replace("NAME", "web")));
        var table = await Ok(Kubectl.RunAsync(Admin, "get pods web"));
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s*\nweb\s+0/1\s+Pending\s+0\s+\d+s", table.Stdout);
        var wide = await Ok(Kubectl.RunAsync(Admin, "get pods web -o wide"));
        Assert.Contains("NOMINATED NODE", wide.Stdout);

        var describe = await Ok(Kubectl.RunAsync(Admin, "describe pod web"));
        Assert.Matches(@"Status:\s+Pending", describe.Stdout);
        Assert.Matches(@"QoS Class:\s+BestEffort", describe.Stdout);

        // apply over a created object: kubectl computes a strategic merge patch from its own types; containers merge
        // by name (the image is one of the few pod spec fields an update may change).
        await Ok(Kubectl.RunAsync(Admin, "apply -f -", PodYaml.Replace("NAME", "web").Replace("busybox:1", "busybox:2").Replace("app: web", "app: web, tier: x")));
        var pod = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "get pod web -o json"))).Stdout)!;
        Assert.Equal("busybox:2", pod["spec"]!["containers"]![0]!["image"]!.ToString());
        Assert.Equal("1", pod["spec"]!["containers"]![0]!["env"]![0]!["value"]!.ToString());
        Assert.Equal("x", pod["metadata"]!["labels"]!["tier"]!.ToString());
        var generation = pod["metadata"]!["generation"]!.GetValue<long>();
        Assert.True(generation >= 2, $"generation {generation} did not move with the spec");

        // apply again without the label: the last-applied annotation makes kubectl remove it.
        await Ok(Kubectl.RunAsync(Admin, "apply -f -", PodYaml.Replace("NAME", "web")));
        pod = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "get pod web -o json"))).Stdout)!;
        Assert.Null(pod["metadata"]!["labels"]!["tier"]);

        await Ok(Kubectl.RunAsync(Admin, "patch pod web -p '{\"metadata\":{\"labels\":{\"s\":\"1\"}}}'"));
        await Ok(Kubectl.RunAsync(Admin, "patch pod web --type=merge -p '{\"metadata\":{\"labels\":{\"m\":\"2\"}}}'"));
        await Ok(Kubectl.RunAsync(Admin, "patch pod web --type=json -p '[{\"op\":\"add\",\"path\":\"/metadata/labels/j\",\"value\":\"3\"}]'"));
        await Ok(Kubectl.RunAsync(Admin, "label pod web l=4"));
        var labels = await Ok(Kubectl.RunAsync(Admin, "get pod web -o jsonpath={.metadata.labels}"));
        var parsed = JsonNode.Parse(labels.Stdout)!.AsObject();
        Assert.Equal(["app", "j", "l", "m", "s"], parsed.Select(kv => kv.Key).Order());

        // An unscheduled pod goes at once; kubectl waits for it to be gone.
        await Ok(Kubectl.RunAsync(Admin, "delete pod web"));
        var gone = await Kubectl.RunAsync(Admin, "get pod web");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("pods \"web\" not found", gone.Stderr);
    }

    /// <summary>One manifest per served type (pods have their own test above); NAME is replaced per run.</summary>
    public static TheoryData<string, string> EachResource => new()
    {
        { "namespace", "apiVersion: v1\nkind: Namespace\nmetadata: {name: NAME, labels: {v: a}}\n" },
        { "node", "apiVersion: v1\nkind: Node\nmetadata: {name: NAME, labels: {v: a}}\n" },
        { "configmap", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: NAME, labels: {v: a}}\ndata: {k: v}\n" },
        { "secret", "apiVersion: v1\nkind: Secret\nmetadata: {name: NAME, labels: {v: a}}\nstringData: {k: v}\n" },
        { "serviceaccount", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: NAME, labels: {v: a}}\n" },
        { "service", "apiVersion: v1\nkind: Service\nmetadata: {name: NAME, labels: {v: a}}\nspec: {selector: {app: x}, ports: [{port: 80}]}\n" },
        { "lease", "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata: {name: NAME, labels: {v: a}}\nspec: {holderIdentity: h, leaseDurationSeconds: 40}\n" },
        { "endpointslice", "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: NAME, labels: {v: a}}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.1]}]\nports: [{port: 80, protocol: TCP}]\n" },
        { "event", "apiVersion: v1\nkind: Event\nmetadata: {name: NAME, labels: {v: a}}\ninvolvedObject: {kind: Pod, name: p, namespace: default}\nreason: R\nmessage: m\ntype: Normal\n" },
        { "certificatesigningrequest", "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata: {name: NAME, labels: {v: a}}\nspec: {request: REQUEST, signerName: example.com/x, usages: [client auth]}\n" },
    };

    [Theory]
    [MemberData(nameof(EachResource))]
    public async Task CreateGetDescribeApplyPatchDeleteEachResource(string kind, string manifest)
    {
        var name = $"each-{kind}";
        var (key, request) = CsrRequests.New("CN=each");
        key.Dispose();
        manifest = manifest.Replace("NAME", name).Replace("REQUEST", Convert.ToBase64String(request));
        await Ok(Kubectl.RunAsync(Admin, "create -f -", manifest));
        var table = await Ok(Kubectl.RunAsync(Admin, $"get {kind} {name}"));
        Assert.Matches($@"(?m)^NAME\s.*\n{name}\s", table.Stdout);
        var describe = await Ok(Kubectl.RunAsync(Admin, $"describe {kind} {name}"));
        Assert.Matches($@"Name:\s+{name}", describe.Stdout);
        await Ok(Kubectl.RunAsync(Admin, "apply -f -", manifest.Replace("{v: a}", "{v: b}")));
        await Ok(Kubectl.RunAsync(Admin, $"patch {kind} {name} --type=merge -p '{{\"metadata\":{{\"labels\":{{\"p\":\"1\"}}}}}}'"));
        var labels = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, $"get {kind} {name} -o jsonpath={{.metadata.labels}}"))).Stdout)!.AsObject();
        Assert.Equal("b", labels["v"]!.ToString());
        Assert.Equal("1", labels["p"]!.ToString());
        await Ok(Kubectl.RunAsync(Admin, $"delete {kind} {name}"));
        var gone = await Kubectl.RunAsync(Admin, $"get {kind} {name}");
        Assert.NotEqual(0, gone.ExitCode);
        Assert.Contains("not found", gone.Stderr);
    }

    [Fact]
    public async Task UnknownFieldsAreRefusedByDefault()
    {
        var result = await Kubectl.RunAsync(Admin, "create -f -", PodYaml.Replace("NAME", "bogus").Replace("image: busybox:1", "image: busybox:1\n    bogus: 1"));
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("strict decoding error: unknown field \"spec.containers[0].bogus\"", result.Stderr);
    }

    [Fact]
    public async Task NodesPrintTheRealColumnsAndDescribe()
    {
        const string node = """
            apiVersion: v1
            kind: Node
            metadata:
              name: worker1
              labels: {kubernetes.io/hostname: worker1}
            status:
              conditions:
              - {type: Ready, status: "True", reason: KubeletReady, message: kubelet is posting ready status}
              nodeInfo: {kubeletVersion: v1.32.0, osImage: Debian, kernelVersion: "6.1", containerRuntimeVersion: "nodeagent://0.1", machineID: a, systemUUID: b, bootID: c, kubeProxyVersion: v1.32.0, operatingSystem: linux, architecture: amd64}
              addresses: [{type: InternalIP, address: 10.0.0.1}]
            """;
        await Ok(Kubectl.RunAsync(Admin, "apply -f -", node));
        await Ok(Kubectl.RunAsync(Admin, "label node worker1 node-role.kubernetes.io/worker="));
        var wide = await Ok(Kubectl.RunAsync(Admin, "get nodes worker1 -o wide"));
        Assert.Matches(@"NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP\s+EXTERNAL-IP\s+OS-IMAGE\s+KERNEL-VERSION\s+CONTAINER-RUNTIME", wide.Stdout);
        Assert.Matches(@"worker1\s+Ready\s+worker\s+\d+s\s+v1\.32\.0\s+10\.0\.0\.1\s+<none>\s+Debian\s+6\.1\s+nodeagent://0\.1", wide.Stdout);
        var describe = await Ok(Kubectl.RunAsync(Admin, "describe node worker1"));
        Assert.Matches(@"Ready\s+True", describe.Stdout);
        Assert.Contains("InternalIP:  10.0.0.1", describe.Stdout);
    }

    [Fact]
    public async Task GetWatchSeesAChange()
    {
        await Ok(Kubectl.RunAsync(Admin, "create -f -", PodYaml.Replace("NAME", "watched")));
        using var watch = Kubectl.Start(Admin, "get pods watched -w --output-watch-events");
        try
        {
            var header = await watch.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Matches(@"EVENT\s+NAME\s+READY", header);
            var initial = await watch.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Matches(@"ADDED\s+watched", initial);
            await Ok(Kubectl.RunAsync(Admin, "label pod watched seen=yes"));
            var change = await watch.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Matches(@"MODIFIED\s+watched\s+0/1\s+Pending", change);
            await Ok(Kubectl.RunAsync(Admin, "delete pod watched"));
            var deleted = await watch.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Matches(@"DELETED\s+watched", deleted);
        }
        finally
        {
            watch.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task AStaleReplaceIsAConflict()
    {
        await Ok(Kubectl.RunAsync(Admin, "create -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stale}\ndata: {a: \"1\"}\n"));
        var json = (await Ok(Kubectl.RunAsync(Admin, "get configmap stale -o json"))).Stdout;
        await Ok(Kubectl.RunAsync(Admin, "label configmap stale moved=1"));
        var replace = await Kubectl.RunAsync(Admin, "replace -f -", json);
        Assert.NotEqual(0, replace.ExitCode);
        Assert.Contains("Error from server (Conflict)", replace.Stderr);
        Assert.Contains("Operation cannot be fulfilled on configmaps \"stale\": the object has been modified; please apply your changes to the latest version and try again", replace.Stderr);
    }

    [Fact]
    public async Task AWatchFromACompactedVersionIsExpired()
    {
        var (server, dir) = await ApiServerFixture.StartPrivateAsync();
        try
        {
            await Ok(Kubectl.RunAsync(server.AdminKubeconfig, "create -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"));
            server.Store.Compact();
            await Ok(Kubectl.RunAsync(server.AdminKubeconfig, "create -f -", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"));
            var raw = await Ok(Kubectl.RunAsync(server.AdminKubeconfig, "get --raw /api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1"));
            var ev = JsonNode.Parse(raw.Stdout.Trim())!;
            Assert.Equal("ERROR", ev["type"]!.ToString());
            Assert.Equal(410, ev["object"]!["code"]!.GetValue<int>());
            Assert.Equal("Expired", ev["object"]!["reason"]!.ToString());
            Assert.StartsWith("too old resource version: 1 (", ev["object"]!["message"]!.ToString());
        }
        finally
        {
            await server.DisposeAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ANodeCannotTouchAnotherNodesObjects()
    {
        var n1 = fixture.Server.NodeKubeconfig("n1");
        var n2 = fixture.Server.NodeKubeconfig("n2");
        const string node = "apiVersion: v1\nkind: Node\nmetadata:\n  name: NAME\n";
        await Ok(Kubectl.RunAsync(n1, "create -f -", node.Replace("NAME", "n1")));
        var other = await Kubectl.RunAsync(n2, "label node n1 stolen=yes");
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains("Error from server (Forbidden): nodes \"n1\" is forbidden: node \"n2\" is not allowed to modify node \"n1\"", other.Stderr);
        var delete = await Kubectl.RunAsync(n2, "delete node n1");
        Assert.Contains("nodes \"n1\" is forbidden: User \"system:node:n2\" cannot delete resource \"nodes\" in API group \"\" at the cluster scope", delete.Stderr);

        await Ok(Kubectl.RunAsync(Admin, "create -f -", PodYaml.Replace("NAME", "bound").Replace("spec:", "spec:\n  nodeName: n1")));
        var podDelete = await Kubectl.RunAsync(n2, "delete pod bound --grace-period=0 --wait=false");
        Assert.Contains("pods \"bound\" is forbidden: node \"n2\" can only delete pods with spec.nodeName set to itself", podDelete.Stderr);

        var create = await Kubectl.RunAsync(n2, "create -f -", PodYaml.Replace("NAME", "sneaky").Replace("spec:", "spec:\n  nodeName: n2"));
        Assert.Contains("pods \"sneaky\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node \"n2\" can only create mirror pods", create.Stderr);

        var lease = await Kubectl.RunAsync(n2, "get lease -n kube-node-lease n1");
        Assert.Contains("leases.coordination.k8s.io \"n1\" is forbidden: User \"system:node:n2\" cannot get resource \"leases\" in API group \"coordination.k8s.io\" in the namespace \"kube-node-lease\"", lease.Stderr);
        var secrets = await Kubectl.RunAsync(n2, "get secrets");
        Assert.Contains("Error from server (Forbidden)", secrets.Stderr);

        // The node itself still finishes the pod's deletion (grace 0), as kubelet does.
        var graceful = await Ok(Kubectl.RunAsync(Admin, "delete pod bound --wait=false"));
        Assert.Contains("deleted", graceful.Stdout);
        Assert.Contains("Terminating", (await Ok(Kubectl.RunAsync(Admin, "get pod bound"))).Stdout);
        await Ok(Kubectl.RunAsync(n1, "delete pod bound --grace-period=0 --force"));
        Assert.NotEqual(0, (await Kubectl.RunAsync(Admin, "get pod bound")).ExitCode);
    }

    [Fact]
    public async Task ImperativeCreatesSendProtobufAndWork()
    {
        await Ok(Kubectl.RunAsync(Admin, "create namespace imperative"));
        await Ok(Kubectl.RunAsync(Admin, "-n imperative create configmap cm --from-literal=a=1 --from-literal=b=two"));
        await Ok(Kubectl.RunAsync(Admin, "-n imperative create secret generic sec --from-literal=p=q"));
        await Ok(Kubectl.RunAsync(Admin, "-n imperative create serviceaccount robot"));
        await Ok(Kubectl.RunAsync(Admin, "-n imperative create service nodeport web --tcp=80:http"));
        var cm = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "-n imperative get configmap cm -o json"))).Stdout)!;
        Assert.Equal("two", cm["data"]!["b"]!.ToString());
        Assert.Null(cm["metadata"]!["generateName"]);
        var secret = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "-n imperative get secret sec -o json"))).Stdout)!;
        Assert.Equal("cQ==", secret["data"]!["p"]!.ToString());
        Assert.Equal("Opaque", secret["type"]!.ToString());
        var svc = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "-n imperative get service web -o json"))).Stdout)!;
        Assert.Equal("http", svc["spec"]!["ports"]![0]!["targetPort"]!.ToString());
        Assert.Equal(80, svc["spec"]!["ports"]![0]!["port"]!.GetValue<int>());
        Assert.Equal("NodePort", svc["spec"]!["type"]!.ToString());
        var names = await Ok(Kubectl.RunAsync(Admin, "-n imperative get configmap,secret,serviceaccount,service -o name"));
        Assert.Equal(["configmap/cm", "secret/sec", "service/web", "serviceaccount/robot"], names.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        await Ok(Kubectl.RunAsync(Admin, "delete namespace imperative"));
    }

    [Fact]
    public async Task DrainCordonsAndEvictsAndDeleteCollectionSelects()
    {
        await Ok(Kubectl.RunAsync(Admin, "create -f -", "apiVersion: v1\nkind: Node\nmetadata: {name: drained}\n"));
        for (var i = 0; i < 3; i++)
        {
            await Ok(Kubectl.RunAsync(Admin, "create -f -", PodYaml.Replace("NAME", $"drain{i}").Replace("spec:", "spec:\n  nodeName: drained")));
        }
        var drain = await Ok(Kubectl.RunAsync(Admin, "drain drained --force --grace-period=0 --timeout=20s"));
        Assert.Contains("node/drained cordoned", drain.Stdout);
        Assert.Contains("evicting pod default/drain0", drain.Stderr + drain.Stdout);
        Assert.Contains("node/drained drained", drain.Stdout);
        Assert.Equal("true", (await Ok(Kubectl.RunAsync(Admin, "get node drained -o jsonpath={.spec.unschedulable}"))).Stdout);
        Assert.Empty((await Ok(Kubectl.RunAsync(Admin, "get pods --field-selector spec.nodeName=drained -o name"))).Stdout.Trim());

        // deletecollection with a label selector, as the namespace controller and clients use it.
        for (var i = 0; i < 3; i++)
        {
            await Ok(Kubectl.RunAsync(Admin, "create -f -", $"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: coll{i}, labels: {{batch: \"{(i < 2 ? "a" : "b")}\"}}}}\n"));
        }
        using var connection = new NodeAgent.Kube.Http.KubeApiConnection(NodeAgent.Kube.Config.KubeConfigLoader.LoadFile(Admin));
        using (var response = await connection.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/configmaps?labelSelector=batch%3Da", null, null, false, CancellationToken.None))
        {
            var list = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("ConfigMapList", list["kind"]!.ToString());
            Assert.Equal(2, list["items"]!.AsArray().Count);
        }
        var left = await Ok(Kubectl.RunAsync(Admin, "get configmaps -l batch -o name"));
        Assert.Equal("configmap/coll2", left.Stdout.Trim());
    }

    [Fact]
    public async Task EditPatchesWhatTheEditorChanged()
    {
        await Ok(Kubectl.RunAsync(Admin, "create -f -", PodYaml.Replace("NAME", "edited")));
        var editor = Path.Combine(fixture.Directory, "editor.sh");
        File.WriteAllText(editor, "#!/bin/sh\nsed -i 's/image: busybox:1/image: busybox:edited/' \"$1\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var edit = await Ok(Kubectl.RunAsync(Admin, "edit pod edited", environment: new Dictionary<string, string> { ["EDITOR"] = editor }));
        Assert.Contains("pod/edited edited", edit.Stdout);
        Assert.Equal("busybox:edited", (await Ok(Kubectl.RunAsync(Admin, "get pod edited -o jsonpath={.spec.containers[0].image}"))).Stdout);
    }

    [Fact]
    public async Task EventsV1AndCoreEventsShareOneStore()
    {
        const string v1 = """
            apiVersion: events.k8s.io/v1
            kind: Event
            metadata: {name: viaevents, namespace: default}
            eventTime: "2026-01-01T00:00:00.000000Z"
            reportingController: test/controller
            reportingInstance: test-1
            action: Testing
            reason: Tested
            note: written through events.k8s.io
            type: Normal
            regarding: {kind: Pod, namespace: default, name: somepod, apiVersion: v1}
            """;
        await Ok(Kubectl.RunAsync(Admin, "create -f -", v1));
        var core = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "get events.v1. viaevents -o json"))).Stdout)!;
        Assert.Equal("v1", core["apiVersion"]!.ToString());
        Assert.Equal("written through events.k8s.io", core["message"]!.ToString());
        Assert.Equal("somepod", core["involvedObject"]!["name"]!.ToString());
        Assert.Equal("test/controller", core["reportingComponent"]!.ToString());
        var back = JsonNode.Parse((await Ok(Kubectl.RunAsync(Admin, "get events.v1.events.k8s.io viaevents -o json"))).Stdout)!;
        Assert.Equal("written through events.k8s.io", back["note"]!.ToString());
        Assert.Equal("Pod", back["regarding"]!["kind"]!.ToString());

        var incomplete = await Kubectl.RunAsync(Admin, "create -f -", v1.Replace("viaevents", "incomplete").Replace("action: Testing\n", ""));
        Assert.Contains("Event \"incomplete\" is invalid: action: Required value", incomplete.Stderr);
    }

    [Fact]
    public async Task AnUnknownCertificateIsUnauthorized()
    {
        // This server's CA, but a client certificate from another CA: the real server answers 401.
        using var otherPki = NodeAgent.TestApiServer.Pki.TestPki.Create();
        using var cert = otherPki.IssueClient("system:node:n1", "system:nodes");
        var path = Path.Combine(fixture.Directory, "foreign.kubeconfig");
        File.WriteAllText(path, KubeconfigText(fixture.Server.Url, fixture.Server.Pki.CaPem, cert.ExportCertificatePem(), NodeAgent.TestApiServer.Pki.TestPki.KeyPem(cert)));
        var result = await Kubectl.RunAsync(path, "get pods");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("error: You must be logged in to the server (Unauthorized)", result.Stderr);
    }

    internal static string KubeconfigText(Uri server, string caPem, string certPem, string keyPem)
    {
        static string B64(string s) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(s));
        return $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: c
              cluster:
                server: {{server.ToString().TrimEnd('/')}}
                certificate-authority-data: {{B64(caPem)}}
            users:
            - name: u
              user:
                client-certificate-data: {{B64(certPem)}}
                client-key-data: {{B64(keyPem)}}
            contexts:
            - name: x
              context: {cluster: c, user: u}
            current-context: x

            """;
    }
}
