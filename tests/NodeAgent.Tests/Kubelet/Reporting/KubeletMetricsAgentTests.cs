using NodeAgent.Cri;
using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kubelet.Agent;
using NodeAgent.Tests.Agent;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Server;
using NodeAgent.Tests.Kubelet.Pods;
using NodeAgent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace NodeAgent.Tests.Kubelet.Reporting;

/// <summary>
/// kubelet's <c>/metrics</c> after real pods ran through the kubelet (the real runtime, static pods from files): every
/// family under kubelet's name and labels, values cross-checked against what happened, the text accepted by the real
/// <c>promtool check metrics</c>, and NodeAgent's start breakdown in the histogram, the Started events and
/// <c>nodeagent get pods -o timing</c>.
/// </summary>
public sealed class KubeletMetricsAgentTests
{
    private static readonly string[] Families =
    [
        "kubelet_node_name", "kubelet_running_pods", "kubelet_running_containers", "kubelet_pod_start_duration_seconds",
        "kubelet_pod_start_sli_duration_seconds", "kubelet_pod_worker_duration_seconds", "kubelet_runtime_operations_total",
        "kubelet_runtime_operations_duration_seconds", "kubelet_runtime_operations_errors_total", "kubelet_image_pull_duration_seconds",
        "kubelet_started_pods_total", "kubelet_started_pods_errors_total", "kubelet_started_containers_total", "kubelet_started_containers_errors_total", "kubelet_restarted_pods_total",
        "kubelet_evictions", "kubelet_node_startup_duration_seconds", "kubelet_node_startup_pre_kubelet_duration_seconds",
        "kubelet_node_startup_pre_registration_duration_seconds", "kubelet_node_startup_registration_duration_seconds",
        "kubelet_node_startup_post_registration_duration_seconds", "rest_client_requests_total", "rest_client_request_duration_seconds",
        "nodeagent_pod_start_phase_duration_seconds",
    ];

    [PrivilegedFact]
    public async Task Metrics_after_real_pods_carry_kubelets_families_and_the_start_breakdown()
    {
        await using var node = new MetricsNode();
        node.WritePod("metrics-a", ["main"]);
        node.WritePod("metrics-b", ["web", "side"], initContainers: ["setup"]);
        await node.RunningAsync("metrics-a");
        await node.RunningAsync("metrics-b");

        var text = await node.ScrapeAsync();
        try
        {
            await CheckAsync(node, text);
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e.Message}\n--- scrape:\n{text}\n--- log:\n{string.Join('\n', node.Log.Entries.Select(l => l.Message))}", e);
        }
    }

    private static async Task CheckAsync(MetricsNode node, string text)
    {
        foreach (var family in Families)
        {
            Assert.Contains($"# HELP {family} ", text);
        }

        Assert.Contains("# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox\n", text);
        Assert.Contains("# TYPE kubelet_pod_start_duration_seconds histogram\n", text);
        Assert.Equal(1, MetricsNode.Sample(text, $"kubelet_node_name{{node=\"{MetricsNode.NodeName}\"}}"));

        // Cross-checked with what ran: two pods, three regular containers and one init container.
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_started_pods_total"));
        Assert.Equal(0, MetricsNode.Sample(text, "kubelet_started_pods_errors_total"));
        Assert.Equal(3, MetricsNode.Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_started_containers_total{container_type=\"init_container\"}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_running_pods"));
        var running = node.Rt.Runtime.ListContainers().Count(c => c.State == ContainerState.Running);
        Assert.Equal(3, running);
        Assert.Equal(running, MetricsNode.Sample(text, "kubelet_running_containers{container_state=\"running\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_running_containers{container_state=\"exited\"}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_runtime_operations_total{operation_type=\"run_podsandbox\"}"));
        Assert.Equal(4, MetricsNode.Sample(text, "kubelet_runtime_operations_total{operation_type=\"create_container\"}"));
        Assert.Equal(4, MetricsNode.Sample(text, "kubelet_runtime_operations_total{operation_type=\"start_container\"}"));
        Assert.Equal(4, MetricsNode.Sample(text, "kubelet_runtime_operations_duration_seconds_count{operation_type=\"start_container\"}"));
        Assert.True(MetricsNode.Sample(text, "kubelet_runtime_operations_total{operation_type=\"list_containers\"}") > 0);
        Assert.Null(MetricsNode.Sample(text, "kubelet_runtime_operations_errors_total{operation_type=\"create_container\"}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_pod_start_duration_seconds_count"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_pod_start_sli_duration_seconds_count"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_pod_worker_duration_seconds_count{operation_type=\"create\"}"));
        foreach (var phase in PodStartPhases.All)
        {
            Assert.Equal(2, MetricsNode.Sample(text, $"nodeagent_pod_start_phase_duration_seconds_count{{phase=\"{phase}\"}}"));
            Assert.True(MetricsNode.Sample(text, $"nodeagent_pod_start_phase_duration_seconds_sum{{phase=\"{phase}\"}}") > 0, phase);
        }

        // A scrape reads the runtime's memory only: it counts no runtime operation. With the kubelet's loops stopped
        // (the pods keep running) nothing else lists either, so two scrapes see the same counts and the same pods.
        await node.StopAsync();
        var stopped = await node.ScrapeAsync();
        var again = await node.ScrapeAsync();
        Assert.Equal(MetricsNode.Sample(stopped, "kubelet_runtime_operations_total{operation_type=\"list_containers\"}"),
            MetricsNode.Sample(again, "kubelet_runtime_operations_total{operation_type=\"list_containers\"}"));
        Assert.Equal(MetricsNode.Sample(stopped, "kubelet_runtime_operations_total{operation_type=\"list_podsandbox\"}"),
            MetricsNode.Sample(again, "kubelet_runtime_operations_total{operation_type=\"list_podsandbox\"}"));
        Assert.Equal(2, MetricsNode.Sample(again, "kubelet_running_pods"));

        var (code, output) = await MetricsNode.PromtoolAsync(text);
        Assert.True(code == 0, $"promtool check metrics exited {code}: {output}");

        // kubelet's Started text first, then where the start went.
        var started = node.Log.Entries.Select(e => e.Message).Where(m => m.Contains("reason=Started: Started container ", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, started.Count);
        var main = Assert.Single(started, m => m.Contains("Started container main (", StringComparison.Ordinal));
        foreach (var phase in new[] { "admission", "image_pull", "sandbox", "container_create", "container_start" })
        {
            Assert.Contains(phase + " ", main);
        }
    }

    [PrivilegedFact]
    public async Task Get_pods_timing_prints_every_phase_from_the_read_only_pods()
    {
        await using var node = new MetricsNode();
        node.WritePod("timed", ["main"]);
        await node.RunningAsync("timed");
        await using var server = new ReadOnlyServer(System.Net.IPAddress.Loopback, 0, node.Host.Pods, NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);

        var pod = Assert.Single(node.Host.Pods.ListPods());
        var phases = PodStartPhases.Parse(pod.Metadata.Annotations[PodStartPhases.Annotation]);
        Assert.Equal(PodStartPhases.All, phases.Keys);
        var output = await CliProcess.RunAsync(node.Rt, "get", "pods", "-o", "timing", "--server", server.Urls[0]);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Matches(@"^NAME\s+ADMISSION\s+IMAGE PULL\s+SANDBOX\s+CONTAINER CREATE\s+CONTAINER START\s+FIRST READY\s+TOTAL$", lines[0]);
        var cells = System.Text.RegularExpressions.Regex.Split(lines[1].Trim(), @"\s{3,}");
        Assert.Equal($"timed-{MetricsNode.NodeName}", cells[0]);
        Assert.Equal(8, cells.Length);
        for (var i = 1; i < cells.Length; i++)
        {
            Assert.Matches(@"^\d+(\.\d+)?(µs|ms|s)$|^\d+m\d+s$", cells[i]);
        }

        Assert.Equal(PodStartPhases.Human(phases["sandbox"]), cells[3]);
    }

    [PrivilegedFact]
    public async Task In_api_mode_the_clients_requests_and_node_startup_are_kept_and_the_start_annotation_stays_local()
    {
        await using var cluster = await ApiCluster.StartAsync();
        using var connection = new KubeApiConnection(KubeConfigLoader.LoadFile(cluster.NodeKubeconfig));
        await using var node = new MetricsNode(api: new KubeApiContext { Connection = connection, KubeConfigPath = cluster.NodeKubeconfig }, name: ApiCluster.NodeName);
        node.WritePod("static-web", ["main"]);
        await node.RunningAsync("static-web");
        await node.Log.WaitForAsync(e => e.Message.StartsWith($"node {ApiCluster.NodeName} Ready=True", StringComparison.Ordinal), TimeSpan.FromSeconds(90), "node Ready");

        // The mirror pod carries the status the node wrote, never the local start annotation.
        var mirror = await cluster.WaitPodAsync($"static-web-{ApiCluster.NodeName}", p => p.Status?.Phase == "Running", "running");
        Assert.False(mirror.Metadata.Annotations?.ContainsKey(PodStartPhases.Annotation) ?? false);
        var local = Assert.Single(node.Host.Pods.ListPods());
        Assert.Equal(PodStartPhases.All, PodStartPhases.Parse(local.Metadata.Annotations[PodStartPhases.Annotation]).Keys);

        var text = await node.ScrapeAsync();
        var host = connection.Config.Server.Authority;
        Assert.True(MetricsNode.Sample(text, $"rest_client_requests_total{{code=\"201\",method=\"POST\",host=\"{host}\"}}") >= 2, text); // the Node, the mirror pod
        Assert.True(MetricsNode.Sample(text, $"rest_client_requests_total{{code=\"200\",method=\"PATCH\",host=\"{host}\"}}") >= 1, text); // statuses
        Assert.True(MetricsNode.Sample(text, $"rest_client_request_duration_seconds_count{{verb=\"GET\",host=\"{host}\"}}") >= 1, text);
        var total = MetricsNode.Sample(text, "kubelet_node_startup_duration_seconds");
        Assert.True(total > 0, text);
        var parts = new[] { "pre_kubelet", "pre_registration", "registration", "post_registration" }
            .Sum(p => MetricsNode.Sample(text, $"kubelet_node_startup_{p}_duration_seconds") ?? double.NaN);
        Assert.Equal(total!.Value, parts, 6);
        Assert.True(MetricsNode.Sample(text, "kubelet_node_startup_registration_duration_seconds") > 0, text);
        var (code, output) = await MetricsNode.PromtoolAsync(text);
        Assert.True(code == 0, $"promtool check metrics exited {code}: {output}");
    }

    [PrivilegedFact]
    public async Task A_static_pod_put_back_while_it_terminates_counts_a_restarted_pod_and_a_second_start()
    {
        await using var node = new MetricsNode();
        using var release = new TempDir("nodeagent-release");
        // On SIGTERM the container waits for a file in a hostPath, so the manifest is surely back while it terminates.
        var manifest = $$"""
            apiVersion: v1
            kind: Pod
            metadata:
              name: slow
            spec:
              terminationGracePeriodSeconds: 60
              volumes:
              - name: release
                hostPath: {path: {{release.Path}}, type: Directory}
              containers:
              - name: main
                image: localhost/busybox:latest
                imagePullPolicy: Never
                volumeMounts: [{name: release, mountPath: /release}]
                command: ["sh", "-c", "trap 'while [ ! -e /release/go ]; do sleep 0.1; done; exit 0' TERM; while true; do sleep 1 & wait; done"]

            """;
        var path = node.Manifests.Combine("slow.yaml");
        File.WriteAllText(path, manifest);
        await node.RunningAsync("slow");
        File.Delete(path);
        await node.Log.WaitForAsync(e => e.Message.Contains("reason=Killing", StringComparison.Ordinal), TimeSpan.FromSeconds(90), "Killing");
        File.WriteAllText(path, manifest);
        await node.Log.WaitForAsync(e => e.Message.Contains("is terminating but has been requested to restart", StringComparison.Ordinal), TimeSpan.FromSeconds(90), "restart requested");
        File.WriteAllText(Path.Combine(release.Path, "go"), "");
        await node.Log.WaitForAsync(e => e.Message.Contains("pod was restarted", StringComparison.Ordinal), TimeSpan.FromSeconds(90), "pod restarted");
        await node.Log.WaitForAsync(e => e.Message.Contains($"slow-{node.Name}", StringComparison.Ordinal) && e.Message.EndsWith("-> Running", StringComparison.Ordinal)
            && node.Log.Entries.Count(l => l.Message.Contains($"slow-{node.Name}", StringComparison.Ordinal) && l.Message.EndsWith("-> Running", StringComparison.Ordinal)) >= 2,
            TimeSpan.FromSeconds(90), "running again");

        var text = await node.ScrapeAsync();
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_restarted_pods_total{static=\"true\"}"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_started_pods_total"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_pod_start_duration_seconds_count"));
        Assert.Equal(2, MetricsNode.Sample(text, "kubelet_pod_worker_duration_seconds_count{operation_type=\"create\"}"));
        Assert.True(MetricsNode.Sample(text, "kubelet_pod_worker_duration_seconds_count{operation_type=\"kill\"}") >= 1);
        Assert.Equal(2, MetricsNode.Sample(text, "nodeagent_pod_start_phase_duration_seconds_count{phase=\"first_ready\"}"));
    }

    [PrivilegedFact]
    public async Task A_failed_runtime_call_is_counted_under_its_operation()
    {
        FaultyRuntime? faulty = null;
        await using var node = new MetricsNode(inner => faulty = new FaultyRuntime(inner));
        var failures = 0;
        faulty!.Fault = call => call == "CreateContainer" && Interlocked.Increment(ref failures) == 1
            ? new RuntimeException(RuntimeErrorKind.CreateContainerError, "injected: create_container failed") : null;
        node.WritePod("faulty", ["main"]);
        await node.Log.WaitForAsync(e => e.Message.Contains("reason=Failed: Error: injected", StringComparison.Ordinal),
            TimeSpan.FromSeconds(90), "the injected failure's event");

        var text = await node.ScrapeAsync();
        Assert.Equal(1, faulty.Faults);
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_runtime_operations_errors_total{operation_type=\"create_container\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_runtime_operations_total{operation_type=\"create_container\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_started_containers_total{container_type=\"container\"}"));
        Assert.Equal(1, MetricsNode.Sample(text, "kubelet_started_containers_errors_total{container_type=\"container\",code=\"CreateContainerError\"}"));
        Assert.Null(MetricsNode.Sample(text, "kubelet_runtime_operations_errors_total{operation_type=\"run_podsandbox\"}"));
        var (code, output) = await MetricsNode.PromtoolAsync(text);
        Assert.True(code == 0, $"promtool check metrics exited {code}: {output}");
    }
}
