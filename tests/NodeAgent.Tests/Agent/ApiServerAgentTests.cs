using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kube.Api;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #12 end to end: the real agent joins the test API server as node1 with a node credential (client
/// certificate, NodeRestriction enforced), and the real kubectl judges what it shows: the node, its Lease, pods
/// bound by the scheduler, their status and events, deletes that wait for the containers, mirror pods, and an API
/// server that goes away and comes back. The agent must never be refused (no 403 in its log).
/// </summary>
[Collection("agent")]
public sealed class ApiServerAgentTests : IAsyncLifetime
{
    private AgentNode _node = null!;
    private ApiCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _node = new AgentNode();
            _cluster = await ApiCluster.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private static string Pod(string name, string script = "trap 'exit 0' TERM; while true; do sleep 1 & wait; done", string restartPolicy = "Always") => $$"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{name}}
          labels: {app: {{name}}}
        spec:
          hostNetwork: true
          restartPolicy: {{restartPolicy}}
          terminationGracePeriodSeconds: 5
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: IfNotPresent
            command: ["sh", "-c", "{{script}}"]

        """;

    private Task<AgentProcess> StartAgentAsync(params string[] extra) => _node.StartAsync(_cluster.AgentFlags(extra));

    private static void NeverRefused(AgentProcess agent) =>
        Assert.DoesNotContain(agent.Lines, l => l.Contains("Forbidden", StringComparison.Ordinal) || l.Contains(" 403", StringComparison.Ordinal));

    private List<ContainerStatus> Running() => _node.Rt.Open().ListContainers().Where(c => c.State == ContainerState.Running).ToList();

    [PrivilegedFact]
    public async Task TheNodeRegistersReadyWithItsLeaseAndKubectlDescribesIt()
    {
        var agent = await StartAgentAsync("--node-labels", "tier=edge", "--register-with-taints", "dedicated=edge:PreferNoSchedule", "--kube-reserved", "memory=256Mi");
        var node = await _cluster.WaitNodeReadyAsync();

        Assert.Equal("edge", node.Metadata.Labels["tier"]);
        Assert.Equal(ApiCluster.NodeName, node.Metadata.Labels["kubernetes.io/hostname"]);
        Assert.Equal("linux", node.Metadata.Labels["kubernetes.io/os"]);
        Assert.Contains(node.Spec.Taints ?? [], t => t.Key == "dedicated" && t.Effect == "PreferNoSchedule");
        Assert.Equal(["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"], node.Status.Conditions.Select(c => c.Type));
        Assert.StartsWith("nodeagent://", node.Status.NodeInfo.ContainerRuntimeVersion, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), node.Status.NodeInfo.BootID);
        Assert.Contains(node.Status.Addresses, a => a.Type == "InternalIP" && a.Address == "192.0.2.10");
        Assert.Equal(agent.ApiPort, node.Status.DaemonEndpoints.KubeletEndpoint.Port);
        // Allocatable memory is capacity minus --kube-reserved and the 100Mi hard eviction threshold.
        var capacity = node.Status.Capacity["memory"].ToInt64();
        Assert.Equal(capacity - (256L << 20) - (100L << 20), node.Status.Allocatable["memory"].ToInt64());
        Assert.Equal(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), node.Status.Capacity["cpu"].ToString());
        Assert.Contains(node.Status.Images, i => i.Names.Any(n => n.Contains("busybox", StringComparison.Ordinal)));

        var lease = await _cluster.WaitAsync(KubeResources.Leases, "kube-node-lease",
            c => c.Get("kube-node-lease", ApiCluster.NodeName) is { Metadata.OwnerReferences.Count: > 0 } l ? l : null, "node lease with owner");
        Assert.Equal(ApiCluster.NodeName, lease.Spec.HolderIdentity);
        Assert.Equal(40, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(node.Metadata.Uid, lease.Metadata.OwnerReferences.Single().Uid);
        var renewed = lease.Spec.RenewTime;
        await _cluster.WaitAsync(KubeResources.Leases, "kube-node-lease",
            c => c.Get("kube-node-lease", ApiCluster.NodeName) is { } l && l.Spec.RenewTime > renewed ? l : null, "lease renewed", 30);

        var nodes = await _cluster.KubectlOkAsync("get nodes");
        Assert.Matches($@"{ApiCluster.NodeName}\s+Ready\s+<none>\s+\S+\s+v1\.32\.0\+nodeagent\.", nodes);
        var describe = await _cluster.KubectlOkAsync("describe node " + ApiCluster.NodeName);
        foreach (var expected in new[]
                 {
                     "Taints:             dedicated=edge:PreferNoSchedule", "KubeletReady", "kubelet is posting ready status", "KubeletHasSufficientMemory",
                     "Capacity:", "Allocatable:", "System Info:", "Container Runtime Version:  nodeagent://", "Kubelet Version:            v1.32.0+nodeagent.",
                     "Starting kubelet.", "NodeReady", "NodeHasSufficientMemory", "Lease:",
                 })
        {
            Assert.Contains(expected, describe, StringComparison.Ordinal);
        }

        // The node's credential reaches only its own objects (NodeRestriction and the Node authorizer); the agent
        // itself never tries anything else.
        await _cluster.KubectlOkAsync("create -f -", "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"node2\"}}");
        foreach (var args in new[] { "label node node2 x=y", "delete lease node2 -n kube-node-lease", "get secrets -n kube-system", "label node node1 node-role.kubernetes.io/control-plane=" })
        {
            var refused = await Kube.Tests.Support.Kubectl.RunAsync(_cluster.NodeKubeconfig, args);
            Assert.True(refused.ExitCode != 0, $"node1 may not {args}: {refused}");
            Assert.Contains("forbidden", refused.Stderr, StringComparison.OrdinalIgnoreCase);
        }

        NeverRefused(agent);
    }

    [PrivilegedFact]
    public async Task APodFromTheApiRunsWithStatusAndEventsAndItsDeleteWaitsForTheContainers()
    {
        var agent = await StartAgentAsync();
        await _cluster.WaitNodeReadyAsync();

        await _cluster.KubectlOkAsync("apply -f -", Pod("web"));
        var running = await _cluster.WaitPodAsync("web", p => p.Status?.Phase == "Running" && p.Status.PodIP is not null, "Running with an IP");
        Assert.Equal(ApiCluster.NodeName, running.Spec.NodeName);
        Assert.Equal("192.0.2.10", running.Status.PodIP);
        Assert.Equal("192.0.2.10", running.Status.HostIP);
        Assert.Equal("BestEffort", running.Status.QosClass);
        Assert.NotNull(running.Status.StartTime);
        var container = Assert.Single(running.Status.ContainerStatuses);
        Assert.StartsWith("nodeagent://", container.ContainerID, StringComparison.Ordinal);
        Assert.NotNull(container.State.Running);
        await _cluster.WaitPodAsync("web", p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true, "Ready");

        var wide = await _cluster.KubectlOkAsync("get pods -o wide");
        Assert.Matches(@"web\s+1/1\s+Running\s+0\s+\S+\s+192\.0\.2\.10\s+node1", wide);
        var describe = await _cluster.KubectlOkAsync("describe pod web");
        foreach (var expected in new[] { "State:          Running", "Ready:          True", "Scheduled", "Pulled", "Created", "Started", "Container image \"localhost/busybox:latest\" already present on machine" })
        {
            Assert.Contains(expected, describe, StringComparison.Ordinal);
        }

        Assert.Single(Running());

        // kubectl delete returns once the agent stopped the containers and deleted the pod with grace 0.
        await _cluster.KubectlOkAsync("delete pod web --timeout=60s");
        Assert.DoesNotContain(Running(), c => c.Labels.GetValueOrDefault("io.kubernetes.pod.name") == "web");
        await agent.WaitForLogAsync(l => l.Contains("pod default/web: containers stopped; deleted from the API server", StringComparison.Ordinal));
        Assert.Empty(_node.Rt.Open().ListPodSandboxes());
        NeverRefused(agent);
    }

    [PrivilegedFact]
    public async Task ACrashingContainerShowsBackOffAndItsRestartCount()
    {
        var agent = await StartAgentAsync();
        await _cluster.WaitNodeReadyAsync();
        await _cluster.KubectlOkAsync("apply -f -", Pod("crash", "exit 3"));

        var pod = await _cluster.WaitPodAsync("crash", p => p.Status?.ContainerStatuses?.SingleOrDefault() is { RestartCount: >= 1, State.Waiting.Reason: "CrashLoopBackOff" },
            "in CrashLoopBackOff after a restart");
        var status = pod.Status.ContainerStatuses.Single();
        Assert.Equal(3, status.LastState.Terminated.ExitCode);
        var describe = await _cluster.KubectlOkAsync("describe pod crash");
        Assert.Contains("CrashLoopBackOff", describe, StringComparison.Ordinal);
        Assert.Contains("Back-off restarting failed container", describe, StringComparison.Ordinal);
        NeverRefused(agent);
    }

    [PrivilegedFact]
    public async Task AStaticPodsMirrorComesBackAfterADeleteAndGoesWithItsFile()
    {
        var agent = await StartAgentAsync();
        await _cluster.WaitNodeReadyAsync();
        _node.Write("static.yaml", Pod("static"));

        var mirror = await _cluster.WaitPodAsync("static-node1", p => p.Status?.Phase == "Running", "mirror Running");
        Assert.True(mirror.Metadata.Annotations.ContainsKey("kubernetes.io/config.mirror"));
        Assert.Equal("Node", mirror.Metadata.OwnerReferences.Single().Kind);
        Assert.Contains("static-node1", await _cluster.KubectlOkAsync("get pods"), StringComparison.Ordinal);
        var describe = await _cluster.KubectlOkAsync("describe pod static-node1");
        Assert.Contains("Started", describe, StringComparison.Ordinal);
        var containerBefore = Assert.Single(Running()).Id;

        await _cluster.KubectlOkAsync("delete pod static-node1 --wait=false");
        await _cluster.WaitPodAsync("static-node1", p => p.Metadata.Uid != mirror.Metadata.Uid && p.Metadata.DeletionTimestamp is null, "mirror made again");
        Assert.Equal(containerBefore, Assert.Single(Running()).Id);

        File.Delete(_node.Manifest("static.yaml"));
        await _cluster.WaitPodGoneAsync("static-node1");
        NeverRefused(agent);
    }

    [PrivilegedFact]
    public async Task TheApiServerAwayRestartsNothingAndTheNodeComesBackReady()
    {
        var agent = await StartAgentAsync();
        await _cluster.WaitNodeReadyAsync();
        _node.Write("static.yaml", Pod("static"));
        await _cluster.KubectlOkAsync("apply -f -", Pod("web"));
        await _cluster.WaitPodAsync("web", p => p.Status?.Phase == "Running", "Running");
        await _cluster.WaitPodAsync("static-node1", p => p.Status?.Phase == "Running", "mirror Running");
        var before = Running().Select(c => c.Id).Order().ToList();
        Assert.Equal(2, before.Count);

        await _cluster.StopAsync();
        // While it is away the agent keeps failing to reach it; a static pod written meanwhile still starts.
        await agent.WaitForLogAsync(l => l.Contains("node lease node1: renewal failed", StringComparison.Ordinal));
        _node.Write("late.yaml", Pod("late"));
        await agent.WaitForPhaseAsync("late-node1", "Running");
        await _cluster.RestartAsync();

        await agent.WaitForLogAsync(l => l.Contains("node lease node1 renewed again", StringComparison.Ordinal));
        var node = await _cluster.WaitNodeReadyAsync();
        Assert.True(ApiCluster.Ready(node));
        await _cluster.WaitPodAsync("late-node1", p => p.Status?.Phase == "Running", "mirror of the pod started while away");
        var web = await _cluster.WaitPodAsync("web", p => p.Status?.Phase == "Running", "still Running");
        Assert.Equal(0, web.Status.ContainerStatuses.Single().RestartCount);
        var after = Running().Select(c => c.Id).ToHashSet();
        Assert.All(before, id => Assert.Contains(id, after));
        NeverRefused(agent);
    }

    [PrivilegedFact]
    public async Task APodGetsItsConfigMapSecretTokenAndEnvFromTheApiAndAnEditReachesTheFile()
    {
        var agent = await StartAgentAsync("--sync-frequency", "2s");
        await _cluster.WaitNodeReadyAsync();
        await _cluster.KubectlOkAsync("create configmap app-config --from-literal=greeting=hello --from-literal=color=blue");
        await _cluster.KubectlOkAsync("create secret generic app-secret --from-literal=password=s3cret");
        await _cluster.KubectlOkAsync("create serviceaccount default");
        await _cluster.KubectlOkAsync("apply -f -", """
            apiVersion: v1
            kind: Pod
            metadata: {name: reader}
            spec:
              hostNetwork: true
              serviceAccountName: default
              terminationGracePeriodSeconds: 1
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done"]
                env:
                - {name: GREETING, valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}}
                - {name: PASSWORD, valueFrom: {secretKeyRef: {name: app-secret, key: password}}}
                envFrom:
                - {prefix: CM_, configMapRef: {name: app-config}}
                volumeMounts:
                - {name: config, mountPath: /config}
                - {name: creds, mountPath: /creds, readOnly: true}
                - {name: token, mountPath: /var/run/secrets/tokens}
              volumes:
              - {name: config, configMap: {name: app-config}}
              - {name: creds, secret: {secretName: app-secret}}
              - name: token
                projected:
                  sources:
                  - serviceAccountToken: {path: token, expirationSeconds: 3600, audience: test}
            """);
        var pod = await _cluster.WaitPodAsync("reader", p => p.Status?.Phase == "Running", "Running");
        var uid = pod.Metadata.Uid;
        var container = Assert.Single(Running());

        // Env reached the process (its initial environment, read from the host).
        var environ = (await File.ReadAllTextAsync($"/proc/{container.Pid}/environ")).Split('\0');
        Assert.Contains("GREETING=hello", environ);
        Assert.Contains("PASSWORD=s3cret", environ);
        Assert.Contains("CM_color=blue", environ);

        // The volumes on the host: the config map's file, the secret on a tmpfs, a projected token.
        var volumes = Path.Combine(_node.Rt.Root, "pods", uid, "volumes");
        var greeting = Path.Combine(volumes, "kubernetes.io~configmap", "config", "greeting");
        Assert.Equal("hello", await File.ReadAllTextAsync(greeting));
        var creds = Path.Combine(volumes, "kubernetes.io~secret", "creds");
        Assert.Equal("s3cret", await File.ReadAllTextAsync(Path.Combine(creds, "password")));
        Assert.Contains(File.ReadAllLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == creds && l.Contains(" - tmpfs ", StringComparison.Ordinal));
        var token = await File.ReadAllTextAsync(Path.Combine(volumes, "kubernetes.io~projected", "token", "token"));
        Assert.Equal(3, token.Split('.').Length);

        // An edit reaches the mounted file through the ..data swap within a sync period or two.
        await _cluster.KubectlOkAsync("patch configmap app-config -p '{\"data\":{\"greeting\":\"bonjour\"}}'");
        using var changed = new FileSystemWatcher(Path.GetDirectoryName(greeting)!) { EnableRaisingEvents = true };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await File.ReadAllTextAsync(greeting) != "bonjour")
        {
            Assert.True(DateTime.UtcNow < deadline, "the config map edit did not reach the file within 60 s");
            changed.WaitForChanged(WatcherChangeTypes.All, 1000);
        }

        await _cluster.KubectlOkAsync("delete pod reader --timeout=60s");
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Split(' ')[4] == creds);
        NeverRefused(agent);
    }
}
