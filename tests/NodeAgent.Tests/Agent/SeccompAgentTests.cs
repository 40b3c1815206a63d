using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's seccompProfile end to end, with static pods and real containers, each test naming the kubelet and
/// containerd behaviour it checks: RuntimeDefault (containerd's default profile) fails <c>unshare</c> and
/// <c>keyctl</c> with EPERM and lets ordinary commands run; Unconfined lets unshare do what the capabilities allow;
/// the container's field wins over the pod's, which wins over <c>--seccomp-default</c>; an exec into a filtered container is filtered too; a Localhost profile under
/// <c>&lt;root-dir&gt;/seccomp</c> applies its own errno, and a missing one is <c>CreateContainerError</c> naming
/// the file. Each container writes its results into a hostPath the test reads.
/// </summary>
[Collection("agent")]
public sealed class SeccompAgentTests : AgentNodeTest
{
    private TempDir _out = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Node is not null)
        {
            _out = new TempDir("nodeagent-seccomp");
            KeyctlProbe.Write(_out.Combine("keyctl"));
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _out?.Dispose();
    }

    /// <summary>A pod whose container runs the checks, writes NAME.* files and ends (or keeps running with a readiness probe).</summary>
    private string Pod(string name, string containerSecurity = "{}", string podSecurity = "{}", string script = "", string extra = "") => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}}
        spec:
          restartPolicy: Never
          securityContext: {{podSecurity}}
          volumes:
          - name: out
            hostPath: {path: "{{_out.Path}}", type: Directory}
          containers:
          - name: main
            image: localhost/busybox:latest
            imagePullPolicy: Never
            securityContext: {{containerSecurity}}
            volumeMounts: [{name: out, mountPath: /out}]
            command: ["sh", "-c", "{{Checks(name)}}{{script}}"]
        {{extra}}
        """;

    private static string Checks(string name) =>
        $"unshare -U true 2>/out/{name}.unshare.err; echo $? >/out/{name}.unshare; " +
        $"/out/keyctl; echo $? >/out/{name}.keyctl; " +
        $"grep Seccomp: /proc/1/status >/out/{name}.status; " +
        $"ls / >/dev/null && echo $(hostname) >/out/{name}.ordinary; ";

    private string Result(string file) => File.ReadAllText(_out.Combine(file)).Trim();

    private async Task FinishedAsync(AgentProcess agent, string pod) => await agent.WaitForPhaseAsync($"{pod}-node1", "Succeeded");

    [PrivilegedFact]
    public async Task RuntimeDefaultDeniesUnshareAndKeyctlAndTheFieldsChooseTheProfile()
    {
        // kubelet --seccomp-default: containers without a field get RuntimeDefault; the container's field, then the
        // pod's, win over it. (containerd never filters a privileged container: SeccompFiltersTests, since a
        // privileged container cannot start on these machines until the capability bounding work of issue #15.)
        var agent = await Node.StartAsync("--seccomp-default");
        Node.Write("a.yaml", Pod("explicit", "{seccompProfile: {type: RuntimeDefault}}"));
        Node.Write("b.yaml", Pod("defaulted"));
        Node.Write("c.yaml", Pod("open", "{seccompProfile: {type: Unconfined}}", "{seccompProfile: {type: RuntimeDefault}}"));
        Node.Write("d.yaml", Pod("podwide", podSecurity: "{seccompProfile: {type: Unconfined}}"));
        foreach (var pod in new[] { "explicit", "defaulted", "open", "podwide" })
        {
            await FinishedAsync(agent, pod);
        }

        foreach (var confined in new[] { "explicit", "defaulted" })
        {
            Assert.Equal(("1", "1", "Seccomp:\t2", confined + "-node1"),
                (Result($"{confined}.unshare"), Result($"{confined}.keyctl"), Result($"{confined}.status"), Result($"{confined}.ordinary")));
            Assert.Contains("Operation not permitted", Result($"{confined}.unshare.err"));
        }

        foreach (var open in new[] { "open", "podwide" })
        {
            // A user namespace needs no capability; the session keyring is there for the asking.
            Assert.Equal(("0", "0", "Seccomp:\t0"), (Result($"{open}.unshare"), Result($"{open}.keyctl"), Result($"{open}.status")));
        }
    }

    [PrivilegedFact]
    public async Task AnExecIntoARuntimeDefaultContainerIsFilteredAsItsInit()
    {
        // The issue: exec enters the container's seccomp filter exactly as its init does. The readiness probe (an
        // exec through the runtime) passes only when the exec'd process is filtered and unshare fails in it.
        var agent = await Node.StartAsync();
        Node.Write("a.yaml", Pod("probed", "{seccompProfile: {type: RuntimeDefault}}", script: "touch /out/probed.done; exec sleep 3600", extra: """
                readinessProbe:
                  exec: {command: ["sh", "-c", "test -f /out/probed.done && grep -q 'Seccomp:.2' /proc/self/status && ! unshare -U true"]}
                  periodSeconds: 1
            """));
        var ready = await agent.WaitPodAsync("probed-node1", p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        Assert.True(ready.Status.ContainerStatuses.Single().Ready);
        Assert.Equal("Seccomp:\t2", Result("probed.status"));
    }

    [PrivilegedFact]
    public async Task ALocalhostProfileAppliesItsErrnoAndAMissingOneIsCreateContainerError()
    {
        // kubelet joins localhostProfile to <root-dir>/seccomp; containerd reads the file (WithProfile) and fails
        // CreateContainer naming it when it cannot; kubelet reports CreateContainerError with that message.
        var profiles = Path.Combine(Node.Rt.Root, "seccomp", "profiles");
        Directory.CreateDirectory(profiles);
        File.WriteAllText(Path.Combine(profiles, "deny-mkdir.json"), """
            {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
             "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}
            """);
        var agent = await Node.StartAsync();
        Node.Write("a.yaml", Pod("local", "{seccompProfile: {type: Localhost, localhostProfile: profiles/deny-mkdir.json}}",
            script: "mkdir /tmp/made 2>/out/local.mkdir.err; echo $? >/out/local.mkdir; "));
        Node.Write("b.yaml", Pod("missing", podSecurity: "{seccompProfile: {type: Localhost, localhostProfile: profiles/missing.json}}"));
        Node.Write("c.yaml", Pod("plain"));

        await FinishedAsync(agent, "local");
        Assert.Equal(("1", "Seccomp:\t2", "0"), (Result("local.mkdir"), Result("local.status"), Result("local.unshare")));
        Assert.Contains("Operation not supported", Result("local.mkdir.err"));

        // kubelet's default without --seccomp-default: Unconfined.
        await FinishedAsync(agent, "plain");
        Assert.Equal("Seccomp:\t0", Result("plain.status"));

        var missing = Path.Combine(Node.Rt.Root, "seccomp", "profiles", "missing.json");
        var pod = await agent.WaitPodAsync("missing-node1", p => p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Waiting?.Reason == "CreateContainerError");
        var waiting = pod.Status.ContainerStatuses.Single().State.Waiting;
        Assert.Matches("^failed to generate container \"[0-9a-f]+\" spec: ", waiting.Message);
        Assert.EndsWith($" spec: failed to generate spec: cannot load seccomp profile \"{missing}\": open {missing}: no such file or directory", waiting.Message);
        Assert.Equal("Pending", pod.Status.Phase);
        var failed = await agent.WaitForEventAsync("missing-node1", "Failed");
        Assert.Contains("Error: failed to generate container", failed);
        Assert.False(File.Exists(_out.Combine("missing.status")));
    }
}
