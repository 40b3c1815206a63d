using System.Text.RegularExpressions;
using k8s.Models;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Agent;

/// <summary>
/// Issue #15's sidecar containers (init containers with <c>restartPolicy: Always</c>) and stop signals end to end,
/// with real containers, each test named after the kubelet 1.32 behaviour it checks: sidecars start in order with
/// the init containers (the next one once the sidecar's startup probe succeeded) and before the regular containers;
/// a sidecar that exits is restarted whatever the pod's restartPolicy; <c>Init:N/M</c>, <c>Init:CrashLoopBackOff</c>
/// and <c>Init:Error</c> as the real kubectl prints them from the test API server and as <c>nodeagent get pods</c>
/// prints them; a Job-like pod (restartPolicy Never) completes while its sidecar still runs; on delete the sidecars
/// stop after the regular containers, in reverse order; the image's STOPSIGNAL and <c>lifecycle.stopSignal</c> are
/// the signals the containers receive. The containers write what happens to them into a hostPath the test reads.
/// </summary>
[Collection("agent")]
public sealed class SidecarAgentTests : AgentNodeTest
{
    // A container that runs until SIGTERM, then appends its name to /marks/stopped and exits 0.
    private const string RunUntilTerm = "trap 'echo $NAME >> /marks/stopped; exit 0' TERM; while true; do sleep 1 & wait; done";

    private TempDir _marks = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        if (Node is not null)
        {
            _marks = new TempDir("nodeagent-sidecars");
        }
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _marks?.Dispose();
    }

    private string Mark(string name) => Path.Combine(_marks.Path, name);

    private string[] Lines(string mark) => File.Exists(Mark(mark)) ? File.ReadAllLines(Mark(mark)) : [];

    private static string Container(string name, string script, string extra = "", string image = "localhost/busybox:latest") => $$"""
          - name: {{name}}
            image: {{image}}
            imagePullPolicy: Never
            env: [{name: NAME, value: {{name}}}]
            volumeMounts: [{name: marks, mountPath: /marks}]
            command: ["sh", "-c", "{{script}}"]
        {{extra}}

        """;

    private string Pod(string name, string restartPolicy, string initContainers, string containers) => $$"""
        apiVersion: v1
        kind: Pod
        metadata: {name: {{name}}}
        spec:
          restartPolicy: {{restartPolicy}}
          terminationGracePeriodSeconds: 10
          hostNetwork: true
          volumes:
          - name: marks
            hostPath: {path: "{{_marks.Path}}", type: Directory}
          initContainers:
        {{initContainers}}
          containers:
        {{containers}}
        """;

    private const string Sidecar = "    restartPolicy: Always";

    [PrivilegedFact]
    public async Task SidecarsStartInOrderWithTheInitContainersAndBeforeTheRegularOnes()
    {
        var agent = await Node.StartAsync();
        // kubelet: the next init container starts once the sidecar has started, i.e. its startup probe succeeded
        // (here only after its mark is written); the regular container once every init container is done.
        var started = "echo $NAME >> /marks/order; touch /tmp/up; " + RunUntilTerm;
        Node.Write("ordered.yaml", Pod("ordered", "Always",
            Container("logger", started, Sidecar + "\n    startupProbe: {exec: {command: [test, -f, /tmp/up]}, periodSeconds: 1}")
            + Container("migrate", "echo $NAME >> /marks/order")
            + Container("proxy", started, Sidecar),
            Container("app", "echo $NAME >> /marks/order; " + RunUntilTerm)));
        var pod = await agent.WaitPodAsync("ordered-node1", p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);

        Assert.Equal(["logger", "migrate", "proxy", "app"], Lines("order"));
        Assert.Equal("Running", pod.Status.Phase);
        var inits = pod.Status.InitContainerStatuses;
        Assert.Equal(["logger", "migrate", "proxy"], inits.Select(s => s.Name));
        Assert.True(inits[0].Started == true && inits[0].Ready && inits[0].State.Running is not null, "logger: started, ready, running");
        Assert.True(inits[1].Started == false && inits[1].Ready && inits[1].State.Terminated is { ExitCode: 0, Reason: "Completed" }, "migrate: completed");
        Assert.True(inits[2].Started == true && inits[2].Ready && inits[2].State.Running is not null, "proxy: started, ready, running");
        Assert.Equal("True", pod.Status.Conditions.Single(c => c.Type == "Initialized").Status);
        var output = await CliProcess.RunAsync(Node.Rt, "get", "pods", "--server", agent.Server);
        Assert.Matches(@"(?m)^ordered-node1\s+3/3\s+Running\s+0\s+\d+s$", output);
        // The Started events come in the same order.
        var events = agent.Lines.Where(l => l.Contains("event pod=default/ordered-node1 ", StringComparison.Ordinal) && l.Contains(" reason=Started:", StringComparison.Ordinal)).ToList();
        Assert.Equal(["logger", "migrate", "proxy", "app"], events.Select(l => Regex.Match(l, "Started container ([a-z]+)").Groups[1].Value));
    }

    [PrivilegedFact]
    public async Task ASidecarThatExitsIsRestartedEvenInANeverPod()
    {
        var agent = await Node.StartAsync();
        // kubelet: a sidecar is restarted on exit whatever the pod's restartPolicy; the pod keeps running.
        Node.Write("flaky.yaml", Pod("flaky", "Never",
            Container("proxy", "if [ -e /marks/ran ]; then " + RunUntilTerm + "; fi; touch /marks/ran; sleep 2; exit 1", Sidecar),
            Container("app", RunUntilTerm)));
        var pod = await agent.WaitPodAsync("flaky-node1", p => p.Status.InitContainerStatuses?.SingleOrDefault() is { RestartCount: 1, State.Running: not null }
            && p.Status.ContainerStatuses?.SingleOrDefault()?.State?.Running is not null);
        var proxy = pod.Status.InitContainerStatuses.Single();
        Assert.Equal(1, proxy.LastState.Terminated.ExitCode);
        Assert.Equal("Error", proxy.LastState.Terminated.Reason);
        Assert.Equal("Running", pod.Status.Phase);
        Assert.Equal(0, pod.Status.ContainerStatuses.Single().RestartCount);
    }

    [PrivilegedFact]
    public async Task ASidecarsReadinessCountsInThePodsAndALivenessFailureRestartsIt()
    {
        var agent = await Node.StartAsync();
        // kubelet: a sidecar's readiness is part of ContainersReady and Ready; a failed liveness probe kills it
        // ("Init container proxy failed liveness probe") and it starts again, the pod going on running.
        Node.Write("probed.yaml", Pod("probed", "Always",
            Container("proxy", RunUntilTerm, Sidecar + """

                readinessProbe: {exec: {command: [test, -f, /marks/ready]}, periodSeconds: 1}
                livenessProbe: {exec: {command: [test, '!', -f, /marks/kill]}, periodSeconds: 1, failureThreshold: 1}
            """),
            Container("app", RunUntilTerm)));
        var unready = await agent.WaitPodAsync("probed-node1", p => p.Status.ContainerStatuses?.SingleOrDefault() is { Ready: true }
            && p.Status.InitContainerStatuses?.SingleOrDefault() is { Started: true, Ready: false });
        var ready = unready.Status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal(("False", "ContainersNotReady", "containers with unready status: [proxy]"), (ready.Status, ready.Reason, ready.Message));

        File.WriteAllText(Mark("ready"), "");
        await agent.WaitPodAsync("probed-node1", p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);

        File.WriteAllText(Mark("kill"), "");
        var killing = await agent.WaitForEventAsync("probed-node1", "Killing");
        File.Delete(Mark("kill"));
        Assert.EndsWith("Init container proxy failed liveness probe", killing, StringComparison.Ordinal);
        var restarted = await agent.WaitPodAsync("probed-node1", p => p.Status.InitContainerStatuses?.SingleOrDefault() is { RestartCount: 1, State.Running: not null, Ready: true });
        Assert.Equal(["proxy"], Lines("stopped"));
        Assert.Equal(0, restarted.Status.ContainerStatuses.Single().RestartCount);
        Assert.Equal("Running", restarted.Status.Phase);
    }

    [PrivilegedFact]
    public async Task InitStatusesPrintAsKubectlPrintsThem()
    {
        await using var cluster = await ApiCluster.StartAsync();
        var agent = await Node.StartAsync(cluster.AgentFlags());
        await cluster.WaitNodeReadyAsync();
        // Init:1/2: the sidecar has started (and counts as a ready container), the plain init container still runs.
        await cluster.KubectlOkAsync("apply -f -", Pod("waiting", "Always",
            Container("proxy", RunUntilTerm, Sidecar) + Container("hold", RunUntilTerm), Container("app", RunUntilTerm)));
        // Init:CrashLoopBackOff: a sidecar that always fails is restarted with the crash-loop backoff. (It counts as
        // started while it runs, which lets the next init container start: that one never finishes, so the pod
        // stays uninitialized whatever the moment the sidecar was seen running.)
        await cluster.KubectlOkAsync("apply -f -", Pod("crashing", "Always",
            Container("proxy", "exit 1", Sidecar) + Container("hold", RunUntilTerm), Container("app", RunUntilTerm)));
        // Init:Error: a plain init container that failed in a Never pod fails the pod.
        await cluster.KubectlOkAsync("apply -f -", Pod("failing", "Never", Container("check", "exit 1"), Container("app", RunUntilTerm)));

        await cluster.WaitPodAsync("waiting", p => p.Status?.InitContainerStatuses is [{ Started: true }, { State.Running: not null }], "Init:1/2");
        await cluster.WaitPodAsync("crashing", p => p.Status?.InitContainerStatuses is [{ RestartCount: >= 1, State.Waiting.Reason: "CrashLoopBackOff" }, _], "Init:CrashLoopBackOff");
        var failing = await cluster.WaitPodAsync("failing", p => p.Status?.Phase == "Failed", "Failed");
        Assert.Equal("Error", failing.Status.InitContainerStatuses.Single().State.Terminated.Reason);

        var kubectl = Rows(await cluster.KubectlOkAsync("get pods"));
        var ours = Rows(await CliProcess.RunAsync(Node.Rt, "get", "pods", "--server", agent.Server));
        Assert.Equal(("1/2", "Init:1/2", "0"), kubectl["waiting"]);
        Assert.Equal(("0/2", "Init:CrashLoopBackOff"), (kubectl["crashing"].Ready, kubectl["crashing"].Status));
        Assert.Matches(@"^[1-9]\d* \(\d+s ago\)$", kubectl["crashing"].Restarts);
        Assert.Equal(("0/1", "Init:Error", "0"), kubectl["failing"]);
        foreach (var (name, row) in kubectl)
        {
            Assert.Equal((name, row.Ready, row.Status), (name, ours[name].Ready, ours[name].Status));
        }
    }

    [PrivilegedFact]
    public async Task AJobLikePodCompletesWhileItsSidecarStillRuns()
    {
        await using var cluster = await ApiCluster.StartAsync();
        var agent = await Node.StartAsync(cluster.AgentFlags());
        await cluster.WaitNodeReadyAsync();
        // kubelet: once the regular containers of a Never pod have finished, the pod is done: its sidecar (which
        // would run for ever) is stopped, and its exit never makes the pod fail.
        await cluster.KubectlOkAsync("apply -f -", Pod("job", "Never", Container("proxy", RunUntilTerm, Sidecar), Container("work", "echo $NAME >> /marks/order")));
        var done = await cluster.WaitPodAsync("job", p => p.Status?.Phase == "Succeeded", "Succeeded");
        Assert.Equal(["work"], Lines("order"));
        Assert.Equal(["proxy"], Lines("stopped"));
        var proxy = done.Status.InitContainerStatuses.Single();
        Assert.NotNull(proxy.State.Terminated);
        Assert.Equal(0, proxy.RestartCount);
        Assert.Equal("Completed", done.Status.ContainerStatuses.Single().State.Terminated.Reason);
        var killing = await agent.WaitForEventAsync("job", "Killing");
        Assert.EndsWith("Stopping container proxy", killing, StringComparison.Ordinal);
        Assert.Equal(("0/2", "Completed", "0"), Rows(await cluster.KubectlOkAsync("get pods"))["job"]);
        Assert.Equal(("0/2", "Completed", "0"), Rows(await CliProcess.RunAsync(Node.Rt, "get", "pods", "--server", agent.Server))["job"]);
    }

    [PrivilegedFact]
    public async Task OnDeleteTheSidecarsStopAfterTheRegularContainersInReverseOrder()
    {
        var agent = await Node.StartAsync();
        // The regular container takes a while to stop: the sidecars must not get their signal before it is gone.
        var slow = "trap 'sleep 1; echo $NAME >> /marks/stopped; exit 0' TERM; while true; do sleep 1 & wait; done";
        Node.Write("ordered.yaml", Pod("stopping", "Always",
            Container("first", RunUntilTerm, Sidecar) + Container("second", RunUntilTerm, Sidecar),
            Container("app", slow) + Container("worker", RunUntilTerm)));
        await agent.WaitPodAsync("stopping-node1", p => p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        File.Delete(Node.Manifest("ordered.yaml"));
        await agent.WaitForLogAsync(l => l.Contains("pod stopping-node1_default(", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        var stopped = Lines("stopped");
        Assert.Equal(4, stopped.Length);
        Assert.Equal(["app", "worker"], stopped[..2].Order());
        Assert.Equal(["second", "first"], stopped[2..]);
    }

    [PrivilegedFact]
    public async Task TheImagesStopSignalAndTheContainersStopSignalAreWhatTheContainersReceive()
    {
        // An image built with STOPSIGNAL SIGUSR1: its config carries StopSignal, as docker build writes it.
        var archive = Mark("stopsignal.oci.tar");
        ImageVariant.WriteBusybox(archive, "localhost/busybox-stopsignal:latest", config => config["StopSignal"] = "SIGUSR1");
        await Node.Rt.Images.ImportAsync(archive, CancellationToken.None);
        File.Delete(archive);
        var agent = await Node.StartAsync();
        // Each container writes the name of the first signal it gets and exits; SIGTERM would be the default.
        var trapAll = "for s in TERM USR1 USR2 QUIT; do trap \\\"echo $s > /marks/$NAME; exit 0\\\" $s; done; while true; do sleep 1 & wait; done";
        Node.Write("signals.yaml", $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: signals}
            spec:
              os: {name: linux}
              terminationGracePeriodSeconds: 20
              volumes:
              - name: marks
                hostPath: {path: "{{_marks.Path}}", type: Directory}
              containers:
            {{Container("image", trapAll, image: "localhost/busybox-stopsignal:latest")}}
            {{Container("spec", trapAll, "    lifecycle: {stopSignal: SIGUSR2}", "localhost/busybox-stopsignal:latest")}}
            {{Container("plain", trapAll)}}
            """);
        await agent.WaitPodAsync("signals-node1", p => p.Status.ContainerStatuses?.All(c => c.State?.Running is not null) == true);
        File.Delete(Node.Manifest("signals.yaml"));
        await agent.WaitForLogAsync(l => l.Contains("pod signals-node1_default(", StringComparison.Ordinal) && l.Contains("removed", StringComparison.Ordinal));
        // The image's STOPSIGNAL; lifecycle.stopSignal over the image's; SIGTERM without either.
        Assert.Equal(["USR1"], Lines("image"));
        Assert.Equal(["USR2"], Lines("spec"));
        Assert.Equal(["TERM"], Lines("plain"));
    }

    /// <summary>NAME → (READY, STATUS, RESTARTS) of a <c>get pods</c> table.</summary>
    private static Dictionary<string, (string Ready, string Status, string Restarts)> Rows(string table) =>
        table.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(l => Regex.Match(l, @"^(\S+)\s+(\S+)\s+(\S+)\s+(\d+(?: \([^)]*\))?)\s+\S+$"))
            .Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => (m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value));
}
