using k8s.Models;
using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's securityContext end to end, each test against the kubelet (and containerd) behaviour it names: real
/// containers started by the agent report what the kernel gave them through their termination message, and refusals
/// are checked in the pod's status and events field by field.
/// </summary>
[Collection("agent")]
public sealed class SecurityContextAgentTests : AgentNodeTest
{
    /// <summary>A run-once pod whose container runs <paramref name="script"/> (its output to the termination message).</summary>
    private static string Pod(string name, string script, string containerExtra = "", string specExtra = "")
    {
        var indented = string.Join("\n", script.Split('\n').Select(l => "          " + l));
        return $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: {{name}}}
            spec:
              restartPolicy: Never
            {{Indent(specExtra, "  ")}}
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: Never
            {{Indent(containerExtra, "    ")}}
                command:
                - sh
                - -c
                - |
            {{indented}}
            """;
    }

    private static string Indent(string text, string by) =>
        string.Join("\n", text.Split('\n').Where(l => l.Length > 0).Select(l => by + l));

    private static async Task<V1ContainerStateTerminated> FinishedAsync(AgentProcess agent, string pod)
    {
        var finished = await agent.WaitPodAsync(pod, p => p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Terminated is not null);
        return finished.Status.ContainerStatuses.Single().State.Terminated;
    }

    private static async Task<V1ContainerStateWaiting> WaitingAsync(AgentProcess agent, string pod, string reason)
    {
        var waiting = await agent.WaitPodAsync(pod, p => p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Waiting?.Reason == reason);
        return waiting.Status.ContainerStatuses.Single().State.Waiting;
    }

    private static string StatusField(int pid, string field) =>
        File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));

    [PrivilegedFact]
    public async Task PrivilegedContainersGetTheAgentsOwnCapabilitiesAndAdministerTheirNetwork()
    {
        // containerd's WithPrivileged (WithAllCurrentCapabilities): a privileged container gets every capability the
        // runtime holds, never more, so it starts even where the agent's bounding set lacks some (here
        // CAP_SYS_RESOURCE); capabilities.add [ALL] is the same set. It can make links in its own network namespace
        // (a bridge: this kernel has no dummy driver; both need CAP_NET_ADMIN), which a default container cannot.
        var agent = await Node.StartAsync();
        Node.Write("priv.yaml", Pod("priv", "ip link add br0 type bridge && ip link show br0 >/dev/null && grep -E '^Cap(Eff|Bnd)' /proc/self/status > /dev/termination-log",
            "securityContext: {privileged: true}"));
        Node.Write("all.yaml", Pod("all", "grep -E '^Cap(Eff|Bnd)' /proc/self/status > /dev/termination-log", "securityContext: {capabilities: {add: [ALL], drop: [CHOWN]}}"));
        Node.Write("plain.yaml", Pod("plain", "ip link add br0 type bridge 2> /dev/termination-log"));

        var agentSet = Capabilities.StatusMask(File.ReadAllText($"/proc/{agent.Pid}/status"), "CapEff")
            & Capabilities.StatusMask(File.ReadAllText($"/proc/{agent.Pid}/status"), "CapBnd");
        var hex = agentSet.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        var priv = await FinishedAsync(agent, "priv-node1");
        Assert.Equal((0, $"CapEff:\t{hex}\nCapBnd:\t{hex}\n"), (priv.ExitCode, priv.Message));
        var all = await FinishedAsync(agent, "all-node1");
        var withoutChown = (agentSet & ~1UL).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal((0, $"CapEff:\t{withoutChown}\nCapBnd:\t{withoutChown}\n"), (all.ExitCode, all.Message));
        var plain = await FinishedAsync(agent, "plain-node1");
        Assert.NotEqual(0, plain.ExitCode);
        Assert.Contains("Operation not permitted", plain.Message, StringComparison.Ordinal);
    }

    [PrivilegedFact]
    public async Task AddedCapabilitiesTheNodeCannotGiveAreCreateErrorsThatNameThem()
    {
        // containerd refuses a capability it does not know; one outside the runtime's own set would fail capset at
        // start: both are CreateContainerError (kubelet's reason for a failed CreateContainer) naming the capability.
        var agent = await Node.StartAsync();
        var agentSet = Capabilities.StatusMask(File.ReadAllText($"/proc/{agent.Pid}/status"), "CapEff")
            & Capabilities.StatusMask(File.ReadAllText($"/proc/{agent.Pid}/status"), "CapBnd");
        var missing = Enumerable.Range(0, Capabilities.LastCap() + 1).Where(c => (agentSet & (1UL << c)) == 0).Select(Capabilities.NameOf).FirstOrDefault();
        Node.Write("fly.yaml", Pod("fly", "true", "securityContext: {capabilities: {add: [FLY]}}"));
        Node.Write("missing.yaml", Pod("missing", "true", $"securityContext: {{capabilities: {{add: [{missing ?? "NET_ADMIN"}]}}}}"));

        var fly = await WaitingAsync(agent, "fly-node1", "CreateContainerError");
        Assert.Equal("container main: unknown capability \"FLY\" in capabilities.add", fly.Message);
        var failed = await agent.WaitForEventAsync("fly-node1", "Failed");
        Assert.EndsWith("Error: container main: unknown capability \"FLY\" in capabilities.add", failed, StringComparison.Ordinal);
        if (missing is not null)
        {
            var waiting = await WaitingAsync(agent, "missing-node1", "CreateContainerError");
            Assert.StartsWith($"container main: capability \"{missing}\" in capabilities.add is not in the node agent's own capability set", waiting.Message, StringComparison.Ordinal);
        }
        else
        {
            // An agent that holds every capability can give any of them.
            Assert.Equal(0, (await FinishedAsync(agent, "missing-node1")).ExitCode);
        }
    }

    [PrivilegedFact]
    public async Task RunAsNonRootRefusesRootWithKubeletsMessages()
    {
        // kubelet's verifyRunAsNonRoot: an image without USER runs as root, so runAsNonRoot refuses it; so does a
        // runAsUser of 0. Both are CreateContainerConfigError with kubelet's message (pod as name_namespace(uid)) and
        // a Failed event "Error: <message>"; a non-zero runAsUser satisfies it.
        var agent = await Node.StartAsync();
        Node.Write("root.yaml", Pod("root", "true", specExtra: "securityContext: {runAsNonRoot: true}"));
        Node.Write("zero.yaml", Pod("zero", "true", "securityContext: {runAsUser: 0, runAsNonRoot: true}", "securityContext: {runAsUser: 1000}"));
        Node.Write("fine.yaml", Pod("fine", "id -u > /dev/termination-log", "securityContext: {runAsUser: 1000}", "securityContext: {runAsNonRoot: true}"));

        var uid = (await agent.WaitPodAsync("root-node1", _ => true)).Metadata.Uid;
        var root = await WaitingAsync(agent, "root-node1", "CreateContainerConfigError");
        var expected = $"container has runAsNonRoot and image will run as root (pod: \"root-node1_default({uid})\", container: main)";
        Assert.Equal(expected, root.Message);
        Assert.EndsWith("Error: " + expected, await agent.WaitForEventAsync("root-node1", "Failed"), StringComparison.Ordinal);
        var zeroUid = (await agent.WaitPodAsync("zero-node1", _ => true)).Metadata.Uid;
        var zero = await WaitingAsync(agent, "zero-node1", "CreateContainerConfigError");
        Assert.Equal($"container's runAsUser breaks non-root policy (pod: \"zero-node1_default({zeroUid})\", container: main)", zero.Message);
        var fine = await FinishedAsync(agent, "fine-node1");
        Assert.Equal((0, "1000\n"), (fine.ExitCode, fine.Message));
    }

    [PrivilegedFact]
    public async Task UserGroupsFsGroupAndSupplementalGroupsReachTheProcess()
    {
        // kubelet: container-level runAsUser/runAsGroup win over the pod's; fsGroup and supplementalGroups are
        // supplemental groups of every container (containerd adds the primary group too). Exec runs as the
        // container's user with the same groups.
        var agent = await Node.StartAsync();
        Node.Write("ids.yaml", Pod("ids", "grep -E '^(Uid|Gid|Groups)' /proc/self/status > /dev/termination-log; trap 'exit 0' TERM; while true; do sleep 1 & wait; done",
            "securityContext: {runAsUser: 2000, runAsGroup: 3000}",
            "securityContext: {runAsUser: 1000, runAsGroup: 1001, fsGroup: 5000, supplementalGroups: [4000, 6000]}"));
        await agent.WaitPodAsync("ids-node1", p => p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Running is not null);
        var container = Node.Rt.Open().ListContainers().Single(c => c.Labels["io.kubernetes.container.name"] == "main");
        var exec = await Node.Rt.Open().ExecSyncAsync(container.Id, ["sh", "-c", "grep -E '^(Uid|Gid|Groups)' /proc/self/status"], TimeSpan.FromSeconds(30), CancellationToken.None);
        const string expected = "Uid:\t2000\t2000\t2000\t2000\nGid:\t3000\t3000\t3000\t3000\nGroups:\t3000 4000 5000 6000 \n";
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(exec.Stdout));
    }

    [PrivilegedFact]
    public async Task AllowPrivilegeEscalationFalseSetsNoNewPrivs()
    {
        // kubelet's AddNoNewPrivileges: no_new_privs only when allowPrivilegeEscalation is false, not when unset;
        // privileged implies escalation, so the API server's validation refuses false with privileged: true (the
        // manifest is reported and never runs).
        var agent = await Node.StartAsync();
        Node.Write("nnp.yaml", Pod("nnp", "grep NoNewPrivs /proc/self/status > /dev/termination-log", "securityContext: {allowPrivilegeEscalation: false}"));
        Node.Write("default.yaml", Pod("default", "grep NoNewPrivs /proc/self/status > /dev/termination-log"));
        Node.Write("contradiction.yaml", Pod("contradiction", "true", "securityContext: {allowPrivilegeEscalation: false, privileged: true}"));
        Assert.Equal("NoNewPrivs:\t1\n", (await FinishedAsync(agent, "nnp-node1")).Message);
        Assert.Equal("NoNewPrivs:\t0\n", (await FinishedAsync(agent, "default-node1")).Message);
        var refused = await agent.WaitForLogAsync(l => l.Contains("contradiction.yaml", StringComparison.Ordinal));
        Assert.Contains("spec.containers[0].securityContext: Invalid value: \"allowPrivilegeEscalation: false\": cannot set `allowPrivilegeEscalation` to false and `privileged` to true", refused, StringComparison.Ordinal);
        Assert.Null(await agent.PodAsync("contradiction-node1"));
    }

    [PrivilegedFact]
    public async Task AReadOnlyRootFilesystemLeavesVolumesShmAndHostsWritable()
    {
        // containerd with readonlyRootfs: the root is read-only, and so are its /etc/hostname and /etc/resolv.conf;
        // /dev/shm, the volumes and kubelet's managed /etc/hosts stay writable.
        var agent = await Node.StartAsync();
        Node.Write("ro.yaml", Pod("ro", """
            for f in /newfile /etc/resolv.conf /etc/hostname /etc/hosts /dev/shm/x /data/x /tmp/x; do
              if (echo x >> $f) 2>/dev/null; then echo "$f rw"; else echo "$f ro"; fi
            done > /dev/termination-log
            """,
            "securityContext: {readOnlyRootFilesystem: true}\nvolumeMounts: [{name: data, mountPath: /data}]",
            "volumes: [{name: data, emptyDir: {}}]"));
        var ro = await FinishedAsync(agent, "ro-node1");
        Assert.Equal("/newfile ro\n/etc/resolv.conf ro\n/etc/hostname ro\n/etc/hosts rw\n/dev/shm/x rw\n/data/x rw\n/tmp/x ro\n", ro.Message);
    }

    [PrivilegedFact]
    public async Task TheDefaultProcMountMasksAndProtectsKernelPathsAndUnmaskedIsRefused()
    {
        // kubelet's default procMount: containerd masks the kernel paths (files behind /dev/null, directories behind
        // an empty read-only tmpfs) and mounts /proc/sys read-only; a privileged container has neither. Unmasked needs
        // a user namespace (hostUsers: false), which NodeAgent does not give: CreateContainerConfigError saying so.
        var agent = await Node.StartAsync();
        const string probe = "{ wc -c < /proc/timer_list; ls /proc/acpi | wc -l; grep -c ' /proc/sys ro,' /proc/self/mountinfo; echo 0 > /proc/sys/kernel/shm_rmid_forced && echo wrote; } > /dev/termination-log 2>&1; true";
        Node.Write("masked.yaml", Pod("masked", probe));
        Node.Write("open.yaml", Pod("open", "{ [ $(wc -c < /proc/timer_list) -gt 0 ] && echo timers; grep -c ' /proc/sys ro,' /proc/self/mountinfo; } > /dev/termination-log 2>&1; true", "securityContext: {privileged: true}"));
        Node.Write("unmasked.yaml", Pod("unmasked", "true", "securityContext: {procMount: Unmasked}", "hostUsers: false"));
        var masked = await FinishedAsync(agent, "masked-node1");
        Assert.Equal("0\n0\n1\nsh: can't create /proc/sys/kernel/shm_rmid_forced: Read-only file system\n", masked.Message);
        Assert.Equal("timers\n0\n", (await FinishedAsync(agent, "open-node1")).Message);
        var unmasked = await WaitingAsync(agent, "unmasked-node1", "CreateContainerConfigError");
        Assert.Equal("container main: securityContext.procMount Unmasked needs a user namespace (hostUsers: false), which NodeAgent does not support", unmasked.Message);
    }

    [PrivilegedFact]
    public async Task SysctlsAreSetInThePodsNamespacesAndForbiddenOnesRejectedAtAdmission()
    {
        // kubelet's sysctl admission: safe sysctls always, unsafe ones only when --allowed-unsafe-sysctls allows them
        // (a pattern with *), net.* never with hostNetwork; a forbidden one fails the pod (reason SysctlForbidden,
        // "forbidden sysctl: …"). Allowed ones are set in the pod's own net and ipc namespaces, the host's untouched.
        var hostBefore = (File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start"), File.ReadAllText("/proc/sys/net/core/somaxconn"), File.ReadAllText("/proc/sys/kernel/shm_rmid_forced"));
        var agent = await Node.StartAsync("--allowed-unsafe-sysctls", "net.core.*,kernel.msgmax");
        Node.Write("tuned.yaml", Pod("tuned", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/core/somaxconn /proc/sys/kernel/shm_rmid_forced /proc/sys/kernel/msgmax > /dev/termination-log",
            specExtra: "securityContext:\n  sysctls:\n  - {name: net.ipv4.ip_unprivileged_port_start, value: '80'}\n  - {name: net/core/somaxconn, value: '1234'}\n  - {name: kernel.shm_rmid_forced, value: '1'}\n  - {name: kernel.msgmax, value: '9999'}"));
        Node.Write("unsafe.yaml", Pod("unsafe", "true", specExtra: "securityContext: {sysctls: [{name: net.ipv4.tcp_max_syn_backlog, value: '10'}]}"));
        Node.Write("hostnet.yaml", Pod("hostnet", "true", specExtra: "hostNetwork: true\nsecurityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: '0'}]}"));

        var tuned = await FinishedAsync(agent, "tuned-node1");
        Assert.Equal((0, "80\n1234\n1\n9999\n"), (tuned.ExitCode, tuned.Message));
        foreach (var (pod, message) in new[]
                 {
                     ("unsafe-node1", "forbidden sysctl: \"net.ipv4.tcp_max_syn_backlog\" not allowlisted"),
                     ("hostnet-node1", "forbidden sysctl: \"net.ipv4.tcp_syncookies\" not allowed with host net enabled"),
                 })
        {
            var rejected = await agent.WaitPodAsync(pod, p => p.Status.Phase == "Failed");
            Assert.Equal(("Failed", "SysctlForbidden", message), (rejected.Status.Phase, rejected.Status.Reason, rejected.Status.Message));
            Assert.EndsWith(message, await agent.WaitForEventAsync(pod, "SysctlForbidden"), StringComparison.Ordinal);
        }

        Assert.Equal(hostBefore, (File.ReadAllText("/proc/sys/net/ipv4/ip_unprivileged_port_start"), File.ReadAllText("/proc/sys/net/core/somaxconn"), File.ReadAllText("/proc/sys/kernel/shm_rmid_forced")));
    }

    [PrivilegedFact]
    public async Task ContainersInheritTheRuntimesResourceLimits()
    {
        // containerd's CRI spec has no rlimits (WithoutDefaultSecuritySettings clears the OCI defaults): a container
        // inherits the runtime's own limits.
        var agent = await Node.StartAsync();
        Node.Write("limits.yaml", Pod("limits", "grep -E '^Max (open files|processes|locked memory|core file size|stack size)' /proc/self/limits > /dev/termination-log"));
        var limits = await FinishedAsync(agent, "limits-node1");
        var agentLimits = File.ReadLines($"/proc/{agent.Pid}/limits")
            .Where(l => l.StartsWith("Max open files", StringComparison.Ordinal) || l.StartsWith("Max processes", StringComparison.Ordinal)
                || l.StartsWith("Max locked memory", StringComparison.Ordinal) || l.StartsWith("Max core file size", StringComparison.Ordinal)
                || l.StartsWith("Max stack size", StringComparison.Ordinal));
        Assert.Equal(string.Join("\n", agentLimits.Order(StringComparer.Ordinal)), string.Join("\n", limits.Message.TrimEnd('\n').Split('\n').Order(StringComparer.Ordinal)));
    }
}
