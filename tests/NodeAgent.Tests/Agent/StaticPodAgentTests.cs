using NodeAgent.Cri;
using NodeAgent.Tests.Kubelet;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// End to end, as root: the real daemon, the real runtime and manifest files written, edited and deleted; what the
/// agent did is read from its read-only API and cross-checked against the runtime's own view.
/// </summary>
[Collection("agent")]
public sealed class StaticPodAgentTests : IAsyncLifetime
{
    private AgentNode _node = null!;

    private const string Web = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          terminationGracePeriodSeconds: 5
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "trap 'exit 0' TERM; echo VERSION; while true; do sleep 1 & wait; done"]
        """;

    public Task InitializeAsync()
    {
        if (!Privileged.SkipRequested)
        {
            _node = new AgentNode();
        }

        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    private Task<AgentProcess> StartAgentAsync(params string[] extra) => _node.StartAsync(extra);

    private void Write(string file, string content) => File.WriteAllText(Path.Combine(_node.Manifests.Path, file), content);

    private List<ContainerStatus> Running() => _node.Rt.Open().ListContainers().Where(c => c.State == ContainerState.Running).ToList();

    [PrivilegedFact]
    public async Task ManifestWrittenEditedAndDeletedStartsReplacesAndStopsThePod()
    {
        var agent = await StartAgentAsync();
        Write("web.yaml", Web.Replace("VERSION", "v1", StringComparison.Ordinal));
        await agent.WaitForEventAsync("web-node1", "Started");

        var pod = await agent.PodAsync("web-node1");
        Assert.NotNull(pod);
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Equal("192.0.2.10", pod.Status.HostIP);
        Assert.Equal("BestEffort", pod.Status.QosClass);
        Assert.Equal("True", pod.Status.Conditions.Single(c => c.Type == "Ready").Status);
        var status = Assert.Single(pod.Status.ContainerStatuses);
        Assert.True(status.Ready);
        Assert.NotNull(status.State.Running);
        Assert.StartsWith("nodeagent://", status.ContainerID, StringComparison.Ordinal);
        Assert.Equal("file", pod.Metadata.Annotations["kubernetes.io/config.source"]);
        var firstUid = pod.Metadata.Uid;
        var first = Assert.Single(Running());
        Assert.Equal(firstUid, first.Labels["io.kubernetes.pod.uid"]);

        // An edit is a new pod (a new UID from the new content): the old one is stopped, the new one started.
        Write("web.yaml", Web.Replace("VERSION", "v2", StringComparison.Ordinal));
        await agent.WaitForEventAsync("web-node1", "Started", occurrence: 2);
        await agent.WaitForLogAsync(l => l.Contains($"({firstUid}): stopped and removed", StringComparison.Ordinal));
        var replaced = Assert.Single(await agent.PodsAsync());
        Assert.NotEqual(firstUid, replaced.Metadata.Uid);
        var second = Assert.Single(Running());
        Assert.NotEqual(first.Id, second.Id);
        Assert.Contains("echo v2;", replaced.Spec.Containers[0].Command[2], StringComparison.Ordinal);
        Assert.Equal(replaced.Metadata.Uid, second.Labels["io.kubernetes.pod.uid"]);

        File.Delete(Path.Combine(_node.Manifests.Path, "web.yaml"));
        await agent.WaitForLogAsync(l => l.Contains($"({replaced.Metadata.Uid}): stopped and removed", StringComparison.Ordinal));
        Assert.Empty(await agent.PodsAsync());
        Assert.Empty(Running());
        Assert.Empty(_node.Rt.Open().ListPodSandboxes());
    }

    [PrivilegedFact]
    public async Task RestartPoliciesDecideTheTerminalPhase()
    {
        var agent = await StartAgentAsync();
        Write("pods.yaml", Pod("never-fails", "Never", "exit 3") + "---\n" + Pod("onfailure-ok", "OnFailure", "exit 0") + "---\n" + Pod("never-ok", "Never", "true"));
        await agent.WaitForEventAsync("never-fails-node1", "Started");
        await agent.WaitForEventAsync("onfailure-ok-node1", "Started");
        await agent.WaitForEventAsync("never-ok-node1", "Started");

        // The exits arrive as runtime events; the statuses follow without any polling by the agent.
        await WaitForPhaseAsync(agent, "never-fails-node1", "Failed");
        await WaitForPhaseAsync(agent, "onfailure-ok-node1", "Succeeded");
        await WaitForPhaseAsync(agent, "never-ok-node1", "Succeeded");
        var failed = (await agent.PodAsync("never-fails-node1"))!;
        var terminated = failed.Status.ContainerStatuses.Single().State.Terminated;
        Assert.Equal(3, terminated.ExitCode);
        Assert.Equal("Error", terminated.Reason);
        Assert.Equal(3, (await agent.PodsAsync()).Count);
    }

    [PrivilegedFact]
    public async Task AlwaysRestartsACrashingContainerWithBackoff()
    {
        var agent = await StartAgentAsync();
        Write("crash.yaml", Pod("crash", "Always", "echo crashing; exit 1"));
        await agent.WaitForEventAsync("crash-node1", "Started");
        await agent.WaitForEventAsync("crash-node1", "BackOff");
        var pod = (await agent.PodAsync("crash-node1"))!;
        var status = pod.Status.ContainerStatuses.Single();
        Assert.Equal("CrashLoopBackOff", status.State.Waiting?.Reason);
        Assert.Contains("back-off 10s restarting failed container", status.State.Waiting!.Message, StringComparison.Ordinal);
        Assert.Equal(1, status.LastState.Terminated.ExitCode);

        // After the 10 s back-off it is started again, and the restart is counted.
        await agent.WaitForEventAsync("crash-node1", "Started", occurrence: 2, timeoutSeconds: 40);
        await agent.WaitForEventAsync("crash-node1", "BackOff", occurrence: 2, timeoutSeconds: 40);
        pod = (await agent.PodAsync("crash-node1"))!;
        Assert.True(pod.Status.ContainerStatuses.Single().RestartCount >= 1);
        Assert.Equal("Running", pod.Status.Phase);
    }

    [PrivilegedFact]
    public async Task AgentKilledWithSigkillAdoptsItsPodsWithoutDuplicates()
    {
        var agent = await StartAgentAsync();
        Write("web.yaml", Web);
        await agent.WaitForEventAsync("web-node1", "Started");
        var before = Assert.Single(Running());
        await _node.KillAsync(agent);

        var again = await StartAgentAsync();
        await again.WaitForLogAsync(l => l.Contains("1 container(s) running at start", StringComparison.Ordinal));
        await again.WaitForLogAsync(l => l.Contains("All pod sources synced", StringComparison.Ordinal));
        var pod = await WaitForPhaseAsync(again, "web-node1", "Running");
        var status = pod.Status.ContainerStatuses.Single();
        Assert.Equal("nodeagent://" + before.Id, status.ContainerID);
        Assert.Equal(0, status.RestartCount);
        Assert.Equal(before.Id, Assert.Single(Running()).Id);
        Assert.Equal(0, again.Count(l => l.Contains("reason=Started", StringComparison.Ordinal)));
        Assert.Single(_node.Rt.Open().ListPodSandboxes());
    }

    [PrivilegedFact]
    public async Task PodsWhoseManifestVanishedWhileTheAgentWasDownAreStopped()
    {
        var agent = await StartAgentAsync();
        Write("web.yaml", Web);
        await agent.WaitForEventAsync("web-node1", "Started");
        await agent.StopAsync();
        Assert.Single(Running());

        File.Delete(Path.Combine(_node.Manifests.Path, "web.yaml"));
        var again = await StartAgentAsync();
        await again.WaitForLogAsync(l => l.Contains("is no longer wanted by any source", StringComparison.Ordinal));
        await again.WaitForLogAsync(l => l.Contains("web-node1_default(", StringComparison.Ordinal) && l.EndsWith("stopped and removed", StringComparison.Ordinal));
        Assert.Empty(Running());
        Assert.Empty(_node.Rt.Open().ListPodSandboxes());
    }

    [PrivilegedFact]
    public async Task PodsBeyondMaxPodsAreRejectedWithOutOfpods()
    {
        var agent = await StartAgentAsync("--max-pods", "1");
        Write("pods.yaml", Pod("a", "Always", "trap 'exit 0' TERM; while true; do sleep 1 & wait; done") + "---\n" + Pod("b", "Always", "true"));
        await agent.WaitForEventAsync("b-node1", "OutOfpods");
        await agent.WaitForEventAsync("a-node1", "Started");
        var b = (await agent.PodAsync("b-node1"))!;
        Assert.Equal("Failed", b.Status.Phase);
        Assert.Equal("OutOfpods", b.Status.Reason);
        Assert.Equal("Node didn't have enough resource: pods, requested: 1, used: 1, capacity: 1", b.Status.Message);
        Assert.Single(Running());
    }

    [PrivilegedFact]
    public async Task BadManifestsAreReportedAndDoNotStopTheOthers()
    {
        var agent = await StartAgentAsync();
        Write("broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n  - name: c\n    image: [unclosed\n");
        Write("noimage.yaml", Pod("noimage", "Always", "true").Replace("localhost/busybox:latest", "localhost/absent:1", StringComparison.Ordinal));
        Write("web.yaml", Web);
        await agent.WaitForEventAsync("web-node1", "Started");
        var error = await agent.WaitForLogAsync(l => l.Contains("broken.yaml:", StringComparison.Ordinal));
        Assert.Contains("malformed YAML", error, StringComparison.Ordinal);
        await agent.WaitForEventAsync("noimage-node1", "ErrImageNeverPull");
        var noimage = (await agent.PodAsync("noimage-node1"))!;
        Assert.Equal("Pending", noimage.Status.Phase);
        Assert.Equal("ErrImageNeverPull", noimage.Status.ContainerStatuses.Single().State.Waiting.Reason);
        Assert.Equal("Running", (await agent.PodAsync("web-node1"))!.Status.Phase);
        Assert.True(await agent.HealthyAsync());
    }

    [PrivilegedFact]
    public async Task PodsFromAManifestUrlRunToo()
    {
        await using var http = new LoopbackHttpServer { Response = (200, Web, "\"v1\"") };
        var agent = await StartAgentAsync("--manifest-url", http.Url.ToString(), "--manifest-url-header", "X-Node:node1", "--http-check-frequency", "1s");
        await agent.WaitForEventAsync("web-node1", "Started");
        var pod = (await agent.PodAsync("web-node1"))!;
        Assert.Equal("http", pod.Metadata.Annotations["kubernetes.io/config.source"]);
        Assert.Contains(http.Requests, h => h["X-Node"] == "node1");

        // The URL starts serving nothing: the pod goes.
        http.Response = (200, "apiVersion: v1\nkind: PodList\nitems: []\n", "\"v2\"");
        await agent.WaitForLogAsync(l => l.Contains("stopped and removed", StringComparison.Ordinal));
        Assert.Empty(await agent.PodsAsync());
    }

    [PrivilegedFact]
    public async Task ConfigFileSetsTheSourcesAndFlagsWinOverIt()
    {
        var config = Path.Combine(_node.Manifests.Path, "..", $"kubelet-{Guid.NewGuid():N}.yaml");
        try
        {
            var other = Path.Combine(_node.Manifests.Path, "not-used");
            File.WriteAllText(config, $"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstaticPodPath: {other}\nmaxPods: 7\nfileCheckFrequency: 1s\nsomethingElse: 1\n");
            // --pod-manifest-path given on the command line wins over staticPodPath.
            var agent = await StartAgentAsync("--config", config);
            var starting = await agent.WaitForLogAsync(l => l.Contains("kubelet starting", StringComparison.Ordinal));
            Assert.Contains("max pods 7", starting, StringComparison.Ordinal);
            Assert.Contains($"file {_node.Manifests.Path}", starting, StringComparison.Ordinal);
            await agent.WaitForLogAsync(l => l.Contains("unknown field \"somethingElse\"", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(config);
        }
    }

    [PrivilegedFact]
    public async Task DownwardApiEnvIsSetAndSecretsFailWithCreateContainerConfigError()
    {
        var agent = await StartAgentAsync();
        Write("env.yaml", Pod("env", "Never", "echo name=$MY_NAME host=$MY_HOST").Replace("    command:", """
                env:
                - name: MY_NAME
                  valueFrom: {fieldRef: {fieldPath: metadata.name}}
                - name: MY_HOST
                  valueFrom: {fieldRef: {fieldPath: status.hostIP}}
                command:
            """, StringComparison.Ordinal));
        Write("secret.yaml", Pod("secret", "Always", "true").Replace("    command:", """
                env:
                - name: PASSWORD
                  valueFrom: {secretKeyRef: {name: db, key: password}}
                command:
            """, StringComparison.Ordinal));
        await WaitForPhaseAsync(agent, "env-node1", "Succeeded");
        var log = File.ReadAllText(Directory.GetFiles(_node.Rt.Logs, "0.log", SearchOption.AllDirectories).Single(f => f.Contains("_env-node1_", StringComparison.Ordinal)));
        Assert.Contains("name=env-node1 host=192.0.2.10", log, StringComparison.Ordinal);

        await agent.WaitForEventAsync("secret-node1", "Failed");
        var waiting = (await agent.PodAsync("secret-node1"))!.Status.ContainerStatuses.Single().State.Waiting;
        Assert.Equal("CreateContainerConfigError", waiting.Reason);
        Assert.Contains("secret \"db\" key \"password\" cannot be read", waiting.Message, StringComparison.Ordinal);
    }

    [PrivilegedFact]
    public async Task HostPathAndEmptyDirVolumesAreMountedAndUnsupportedOnesFailClearly()
    {
        // Absolute without "..": the API server (and PodValidator) refuse backsteps in hostPath paths.
        var host = Path.GetFullPath(Path.Combine(_node.Manifests.Path, "..", $"hostpath-{Guid.NewGuid():N}"));
        try
        {
            var agent = await StartAgentAsync();
            Write("vol.yaml", $$$"""
                apiVersion: v1
                kind: Pod
                metadata: {name: vol}
                spec:
                  restartPolicy: Never
                  volumes:
                  - name: data
                    hostPath:
                      path: {{{host}}}
                      type: DirectoryOrCreate
                  - name: scratch
                    emptyDir: {}
                  containers:
                  - name: main
                    image: localhost/busybox:latest
                    imagePullPolicy: Never
                    command: ["sh", "-c", "echo from-pod > /data/out && echo tmp > /scratch/x && cat /scratch/x"]
                    volumeMounts:
                    - {name: data, mountPath: /data}
                    - {name: scratch, mountPath: /scratch}
                """);
            Write("secretvol.yaml", Pod("secretvol", "Always", "true").Replace("  containers:", """
                  volumes:
                  - {name: creds, secret: {secretName: db}}
                  containers:
                """, StringComparison.Ordinal).Replace("    command:", """
                    volumeMounts:
                    - {name: creds, mountPath: /creds}
                    command:
                """, StringComparison.Ordinal));
            await WaitForPhaseAsync(agent, "vol-node1", "Succeeded");
            Assert.Equal("from-pod\n", File.ReadAllText(Path.Combine(host, "out")));

            await agent.WaitForEventAsync("secretvol-node1", "Failed");
            var waiting = (await agent.PodAsync("secretvol-node1"))!.Status.ContainerStatuses.Single().State.Waiting;
            Assert.Equal("CreateContainerConfigError", waiting.Reason);
            Assert.Equal("volume creds: secret volumes are not supported for static pods (only hostPath and emptyDir)", waiting.Message);

            // Deleting the pod deletes its emptyDir; the hostPath data stays, it is the host's.
            var uid = (await agent.PodAsync("vol-node1"))!.Metadata.Uid;
            Assert.True(Directory.Exists(Path.Combine(_node.Rt.Root, "pods", uid)));
            File.Delete(Path.Combine(_node.Manifests.Path, "vol.yaml"));
            await agent.WaitForLogAsync(l => l.Contains($"({uid}): stopped and removed", StringComparison.Ordinal));
            Assert.False(Directory.Exists(Path.Combine(_node.Rt.Root, "pods", uid)));
            Assert.True(File.Exists(Path.Combine(host, "out")));
        }
        finally
        {
            if (Directory.Exists(host))
            {
                Directory.Delete(host, recursive: true);
            }
        }
    }

    [PrivilegedFact]
    public async Task GetPodsPrintsLikeKubectl()
    {
        var agent = await StartAgentAsync();
        Write("web.yaml", Web);
        Write("done.yaml", Pod("done", "Never", "true"));
        await agent.WaitForEventAsync("web-node1", "Started");
        await WaitForPhaseAsync(agent, "done-node1", "Succeeded");
        var output = await CliProcess.RunAsync(_node.Rt, "get", "pods", "--server", agent.Server);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$", lines[0]);
        Assert.Matches(@"^done-node1\s+0/1\s+Completed\s+0\s+\d+s$", lines[1]);
        Assert.Matches(@"^web-node1\s+1/1\s+Running\s+0\s+\d+s$", lines[2]);
        var wide = await CliProcess.RunAsync(_node.Rt, "get", "pods", "-o", "wide", "-A", "--server", agent.Server);
        Assert.Matches(@"default\s+web-node1\s+1/1\s+Running\s+0\s+\d+s\s+<none>\s+node1", wide);
    }

    private static string Pod(string name, string restartPolicy, string script) => $"""
        apiVersion: v1
        kind: Pod
        metadata:
          name: {name}
        spec:
          restartPolicy: {restartPolicy}
          terminationGracePeriodSeconds: 5
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            command: ["sh", "-c", "{script}"]

        """;

    /// <summary>Waits for the agent's phase-change line for the pod, then reads the pod from the read-only API.</summary>
    private static async Task<k8s.Models.V1Pod> WaitForPhaseAsync(AgentProcess agent, string name, string phase)
    {
        await agent.WaitForLogAsync(l => l.Contains($"pod {name}_default(", StringComparison.Ordinal) && l.EndsWith($"-> {phase}", StringComparison.Ordinal));
        var pod = (await agent.PodAsync(name))!;
        Assert.Equal(phase, pod.Status.Phase);
        return pod;
    }
}
