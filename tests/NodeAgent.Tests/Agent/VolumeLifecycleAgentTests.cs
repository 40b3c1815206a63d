using k8s.Models;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's volume behaviour end to end with real containers, pods from the test API server (kubelet never
/// evicts static pods: they are critical): emptyDir <c>medium: Memory</c> on a tmpfs sized as kubelet sizes it,
/// fsGroup ownership of emptyDir and configMap volumes, the eviction manager's local storage evictions (emptyDir
/// sizeLimit, a container's ephemeral-storage limit) with kubelet's status, event and metric, and mount propagation
/// (HostToContainer, None) of hostPath volumes under a shared test directory.
/// </summary>
[Collection("agent")]
public sealed class VolumeLifecycleAgentTests : ApiAgentTest
{
    private const string Forever = "trap 'exit 0' TERM; while true; do sleep 1 & wait; done";

    /// <summary>Fast stats and eviction rounds (kubelet: du about every minute, evictions every 10 s).</summary>
    private Task<AgentProcess> StartAgentAsync() =>
        Node.StartAsync(Cluster.AgentFlags("--eviction-monitoring-period", "1s", "--fs-stats-period", "1s"));

    private async Task<string> LogsAsync(string pod, string container = "main") =>
        await Cluster.KubectlOkAsync($"logs {pod} -c {container}");

    private async Task<string> WaitLogAsync(string pod, string text, string container = "main")
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var logs = await LogsAsync(pod, container);
            if (logs.Contains(text, StringComparison.Ordinal))
            {
                return logs;
            }

            Assert.True(DateTime.UtcNow < deadline, $"pod {pod} never logged \"{text}\"; its log:\n{logs}");
            await Task.Delay(250);
        }
    }

    private static IEnumerable<string> MountPoints() => File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]);

    [PrivilegedFact]
    public async Task AMemoryEmptyDirIsATmpfsOfKubeletsSizeAndFsGroupOwnsEmptyDirAndConfigMapFiles()
    {
        // kubelet's emptyDir setupTmpfs (size= from calculateEmptyDirMemorySize) and SetVolumeOwnership (fsGroup:
        // group, setgid directories, group rw); the tmpfs is unmounted with the pod.
        await StartAgentAsync();
        await Cluster.WaitNodeReadyAsync();
        await Cluster.KubectlOkAsync("create configmap app-config --from-literal=greeting=hello");
        await Cluster.KubectlOkAsync("apply -f -", $$$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: vols}
            spec:
              terminationGracePeriodSeconds: 1
              securityContext: {fsGroup: 2345}
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                resources: {limits: {memory: 64Mi}}
                command: ["sh", "-c", "grep -E ' /(small|podsized) ' /proc/mounts; touch /data/made; stat -c 'stat %n %g %a' /data /data/made; stat -L -c 'stat %n %g' /config /config/greeting; {{{Forever}}}"]
                volumeMounts:
                - {name: small, mountPath: /small}
                - {name: podsized, mountPath: /podsized}
                - {name: data, mountPath: /data}
                - {name: config, mountPath: /config}
              volumes:
              - {name: small, emptyDir: {medium: Memory, sizeLimit: 16Mi}}
              - {name: podsized, emptyDir: {medium: Memory}}
              - {name: data, emptyDir: {}}
              - {name: config, configMap: {name: app-config}}
            """);
        var pod = await Cluster.WaitPodAsync("vols", p => p.Status?.Phase == "Running", "Running");
        var logs = await WaitLogAsync("vols", "stat /config/greeting");
        var lines = logs.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        // The sizeLimit (16Mi) where it is under the pod's memory limit; the pod's limit (64Mi) where none is given.
        Assert.Contains(lines, l => l.StartsWith("tmpfs /small tmpfs ", StringComparison.Ordinal) && l.Contains("size=16384k", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("tmpfs /podsized tmpfs ", StringComparison.Ordinal) && l.Contains("size=65536k", StringComparison.Ordinal));
        // fsGroup: the emptyDir is group 2345 with setgid (so a new file inherits the group), 0777 | 02070.
        Assert.Contains("stat /data 2345 2777", lines);
        Assert.Contains(lines, l => l.StartsWith("stat /data/made 2345 ", StringComparison.Ordinal));
        Assert.Contains("stat /config 2345", lines);
        Assert.Contains("stat /config/greeting 2345", lines);

        var small = Path.Combine(Node.Rt.Root, "pods", pod.Metadata.Uid, "volumes", "kubernetes.io~empty-dir", "small");
        Assert.Contains(small, MountPoints());
        await Cluster.KubectlOkAsync("delete pod vols --timeout=60s");
        await Cluster.WaitPodGoneAsync("vols");
        Assert.DoesNotContain(MountPoints(), m => m.StartsWith(Path.Combine(Node.Rt.Root, "pods", pod.Metadata.Uid), StringComparison.Ordinal));
    }

    [PrivilegedFact]
    public async Task AMemoryEmptyDirOfAPodDeletedWhileTheAgentWasDownIsUnmountedWhenItStarts()
    {
        // kubelet's HandlePodCleanups / cleanupOrphanedPodDirs after a restart: the pod is gone from every source,
        // so its containers stop and its tmpfs is unmounted before its directory is removed.
        var agent = await StartAgentAsync();
        await Cluster.WaitNodeReadyAsync();
        await Cluster.KubectlOkAsync("apply -f -", $$$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: leftover}
            spec:
              terminationGracePeriodSeconds: 1
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                command: ["sh", "-c", "{{{Forever}}}"]
                volumeMounts:
                - {name: mem, mountPath: /mem}
              volumes:
              - {name: mem, emptyDir: {medium: Memory, sizeLimit: 4Mi}}
            """);
        var pod = await Cluster.WaitPodAsync("leftover", p => p.Status?.Phase == "Running", "Running");
        var podDir = Path.Combine(Node.Rt.Root, "pods", pod.Metadata.Uid);
        Assert.Contains(Path.Combine(podDir, "volumes", "kubernetes.io~empty-dir", "mem"), MountPoints());

        await Node.KillAsync(agent);
        await Cluster.KubectlOkAsync("delete pod leftover --grace-period=0 --force --wait=false");
        await Cluster.WaitPodGoneAsync("leftover");
        await StartAgentAsync();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (Directory.Exists(podDir) || MountPoints().Any(m => m.StartsWith(podDir, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the orphaned pod's directory or tmpfs is still there: {podDir}");
            await Task.Delay(250);
        }
    }

    [PrivilegedFact]
    public async Task WritingPastAnEmptyDirSizeLimitEvictsThePod()
    {
        // kubelet's eviction manager emptyDirLimitEviction: phase Failed, reason Evicted, its message, a Warning
        // Evicted event, kubelet_evictions{eviction_signal="emptydirfs.limit"}, containers stopped and not restarted.
        await StartAgentAsync();
        await Cluster.WaitNodeReadyAsync();
        await Cluster.KubectlOkAsync("apply -f -", $$$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: filler}
            spec:
              terminationGracePeriodSeconds: 30
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                command: ["sh", "-c", "dd if=/dev/urandom of=/scratch/blob bs=1024 count=3072; {{{Forever}}}"]
                volumeMounts:
                - {name: scratch, mountPath: /scratch}
              volumes:
              - {name: scratch, emptyDir: {sizeLimit: 1Mi}}
            """);
        var pod = await AssertEvictedAsync("filler", "emptydirfs.limit", "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". ");
        Assert.Equal(0, pod.Status.ContainerStatuses.Single().RestartCount);
    }

    [PrivilegedFact]
    public async Task AContainerWritingPastItsEphemeralStorageLimitEvictsThePod()
    {
        // kubelet's containerEphemeralStorageLimitEviction (writable layer and logs over the container's limit, the
        // pod's total still under the sum of the limits).
        await StartAgentAsync();
        await Cluster.WaitNodeReadyAsync();
        await Cluster.KubectlOkAsync("apply -f -", $$$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: hog}
            spec:
              terminationGracePeriodSeconds: 30
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                resources: {limits: {ephemeral-storage: 2Mi}}
                command: ["sh", "-c", "dd if=/dev/urandom of=/blob bs=1024 count=3072; {{{Forever}}}"]
              - name: idle
                image: localhost/busybox:latest
                imagePullPolicy: IfNotPresent
                resources: {limits: {ephemeral-storage: 20Mi}}
                command: ["sh", "-c", "{{{Forever}}}"]
            """);
        await AssertEvictedAsync("hog", "ephemeralcontainerfs.limit", "Container main exceeded its local ephemeral storage limit \"2Mi\". ");
    }

    [PrivilegedFact]
    public async Task AHostMountAppearsUnderAHostToContainerHostPathButNotUnderANoneOne()
    {
        // kubelet's mountPropagation: HostToContainer is rslave (containerd requires the source's mount shared or
        // slave), None is rprivate. The test's directory is made a shared mount of its own and everything mounted
        // there is unmounted at the end, failed or not.
        using var shared = new TempDir("nodeagent-propagation");
        Mounts.Bind(shared.Path, shared.Path);
        try
        {
            Mounts.SetPropagation(shared.Path, MountFlags.Shared);
            Directory.CreateDirectory(Path.Combine(shared.Path, "h2c", "sub"));
            Directory.CreateDirectory(Path.Combine(shared.Path, "none", "sub"));
            await StartAgentAsync();
            await Cluster.WaitNodeReadyAsync();
            await Cluster.KubectlOkAsync("apply -f -", $$$"""
                apiVersion: v1
                kind: Pod
                metadata: {name: propagation}
                spec:
                  terminationGracePeriodSeconds: 1
                  containers:
                  - name: main
                    image: localhost/busybox:latest
                    imagePullPolicy: IfNotPresent
                    command: ["sh", "-c", "echo ready; until [ -e /h2c/sub/marker ]; do sleep 0.2; done; echo h2c-seen; if [ -e /none/sub/marker ]; then echo none-seen; else echo none-absent; fi; {{{Forever}}}"]
                    volumeMounts:
                    - {name: h2c, mountPath: /h2c, mountPropagation: HostToContainer}
                    - {name: none, mountPath: /none, mountPropagation: None}
                  volumes:
                  - {name: h2c, hostPath: {path: {{{shared.Path}}}/h2c}}
                  - {name: none, hostPath: {path: {{{shared.Path}}}/none}}
                """);
            await Cluster.WaitPodAsync("propagation", p => p.Status?.Phase == "Running", "Running");
            await WaitLogAsync("propagation", "ready");
            // The None mount first: once the container sees the HostToContainer one, the other exists on the host too.
            foreach (var name in new[] { "none", "h2c" })
            {
                var sub = Path.Combine(shared.Path, name, "sub");
                Mounts.Mount("tmpfs", sub, "tmpfs", 0, "size=1m");
                await File.WriteAllTextAsync(Path.Combine(sub, "marker"), name);
            }

            var logs = await WaitLogAsync("propagation", "h2c-seen");
            Assert.Contains("none-absent", await WaitLogAsync("propagation", "none-"));
            Assert.DoesNotContain("none-seen", logs);
            await Cluster.KubectlOkAsync("delete pod propagation --timeout=60s");
        }
        finally
        {
            Mounts.UnmountAllUnder(shared.Path);
        }
    }

    /// <summary>
    /// kubelet's eviction, seen as a user sees it: phase Failed, reason Evicted and the message; every container
    /// stopped; a Warning Evicted event with the message; kubelet_evictions counted for the signal.
    /// </summary>
    private async Task<V1Pod> AssertEvictedAsync(string name, string signal, string message)
    {
        var pod = await Cluster.WaitPodAsync(name, p => p.Status?.Phase == "Failed", "Failed (evicted)");
        Assert.Equal(("Failed", "Evicted", message), (pod.Status.Phase, pod.Status.Reason, pod.Status.Message));
        pod = await Cluster.WaitPodAsync(name, p => p.Status?.ContainerStatuses?.All(c => c.State?.Terminated is not null) == true, "containers stopped");
        await AssertEvictedEventAsync(name, message);
        await AssertEvictionCountedAsync(signal);
        return pod;
    }

    private async Task AssertEvictedEventAsync(string pod, string message)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var json = await Cluster.KubectlOkAsync($"get events --field-selector involvedObject.name={pod} -o json");
            var events = k8s.KubernetesJson.Deserialize<Corev1EventList>(json).Items;
            if (events.Any(e => (e.Type, e.Reason, e.Message) == ("Warning", "Evicted", message)))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no Warning Evicted event \"{message}\" for {pod}: {json}");
            await Task.Delay(250);
        }
    }

    private async Task AssertEvictionCountedAsync(string signal)
    {
        var metrics = await Cluster.KubectlOkAsync($"get --raw /api/v1/nodes/{ApiCluster.NodeName}/proxy/metrics");
        Assert.Contains($"kubelet_evictions{{eviction_signal=\"{signal}\"}} 1", metrics);
    }
}
