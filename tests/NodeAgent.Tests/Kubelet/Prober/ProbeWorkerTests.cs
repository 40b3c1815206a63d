using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Prober;
using NodeAgent.Tests.Kubelet.Pods;
using NodeAgent.Tests.Logs;

namespace NodeAgent.Tests.Kubelet.Prober;

/// <summary>
/// The probe worker's rules, each as kubelet's worker.doProbe has it, one round at a time on a hand-set clock and
/// with the probe's answers scripted (the runner itself is tested against real sockets in ProbeRunnerTests):
/// initial results per kind, initialDelaySeconds, success and failure thresholds, startup gating liveness and
/// readiness, the hold after a liveness failure, a new container instance starting over, and kubelet's event texts.
/// </summary>
public sealed class ProbeWorkerTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 6, 0, 0, TimeSpan.Zero);
    private readonly ManualTimeProvider _clock = new(Start);
    private readonly Queue<ProbeOutcome> _answers = new();
    private readonly RecordingEvents _events = new(new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System));
    private readonly List<string> _woken = [];
    private V1PodStatus _status = null!;
    private int _runs;

    private sealed class Scripted(ProbeWorkerTests test) : IProbeRunner
    {
        public Task<ProbeOutcome> RunAsync(ProbeTarget target, V1Probe probe, CancellationToken cancellationToken)
        {
            test._runs++;
            return Task.FromResult(test._answers.Dequeue());
        }
    }

    private static V1Pod Pod(V1Container container) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "default", Uid = "uid-1" },
        Spec = new V1PodSpec { Containers = [container] },
    };

    private (ProbeManager Manager, ProbeWorker Worker) Worker(V1Container container, ProbeKind kind)
    {
        var pod = Pod(container);
        var manager = new ProbeManager(new Scripted(this), _ => _status, _ => "sandbox-1", _events, _clock, NullLogger<ProbeManager>.Instance);
        manager.Results.Changed += _woken.Add;
        var probe = kind switch { ProbeKind.Liveness => container.LivenessProbe, ProbeKind.Readiness => container.ReadinessProbe, _ => container.StartupProbe };
        var context = new ProbeContext(new Scripted(this), manager.Results, _ => _status, _ => "sandbox-1", _events, _clock, NullLogger.Instance);
        return (manager, new ProbeWorker(pod, container, kind, probe!, context));
    }

    private void Running(string id, DateTimeOffset since) => _status = new V1PodStatus
    {
        PodIP = "10.0.0.5",
        ContainerStatuses = [new V1ContainerStatus { Name = "web", ContainerID = "nodeagent://" + id, State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = since.UtcDateTime } } }],
    };

    private static V1Container Container(V1Probe? liveness = null, V1Probe? readiness = null, V1Probe? startup = null) =>
        new() { Name = "web", Image = "x", LivenessProbe = liveness, ReadinessProbe = readiness, StartupProbe = startup };

    private static V1Probe Probe(int? failure = null, int? success = null, int? delay = null) =>
        new() { TcpSocket = new V1TCPSocketAction { Port = "8080" }, FailureThreshold = failure, SuccessThreshold = success, InitialDelaySeconds = delay };

    private static readonly ProbeOutcome Ok = new(ProbeResult.Success, "");
    private static readonly ProbeOutcome Refused = new(ProbeResult.Failure, "dial tcp 10.0.0.5:8080: connect: connection refused");

    [Fact]
    public async Task ReadinessStartsFailedAndTurnsAfterSuccessThresholdSuccessesInARow()
    {
        var container = Container(readiness: Probe(success: 2));
        var (manager, worker) = Worker(container, ProbeKind.Readiness);
        Running("c1", Start);
        _answers.Enqueue(Ok);
        await worker.ProbeOnceAsync(default);
        Assert.Equal(ProbeResult.Failure, manager.Results.Get("c1", ProbeKind.Readiness));
        Assert.False(manager.Ready(container, "c1"));
        _answers.Enqueue(Refused);
        _answers.Enqueue(Ok);
        await worker.ProbeOnceAsync(default);
        await worker.ProbeOnceAsync(default);
        Assert.False(manager.Ready(container, "c1"));
        _answers.Enqueue(Ok);
        await worker.ProbeOnceAsync(default);
        Assert.True(manager.Ready(container, "c1"));
        Assert.Contains(("uid-1", "Unhealthy", "Readiness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused"), _events.All);
        Assert.Contains("uid-1", _woken);
    }

    [Fact]
    public async Task LivenessFailsOnlyAfterFailureThresholdAndThenHoldsUntilANewContainer()
    {
        var container = Container(liveness: Probe(failure: 3));
        var (manager, worker) = Worker(container, ProbeKind.Liveness);
        Running("c1", Start);
        for (var i = 0; i < 2; i++)
        {
            _answers.Enqueue(Refused);
            await worker.ProbeOnceAsync(default);
            Assert.Null(manager.FailedProbe(container, "c1"));
        }
        _answers.Enqueue(Refused);
        await worker.ProbeOnceAsync(default);
        Assert.Equal(ProbeKind.Liveness, manager.FailedProbe(container, "c1"));
        Assert.Equal(3, _events.All.Count(e => e.Message == "Liveness probe failed: dial tcp 10.0.0.5:8080: connect: connection refused"));

        // On hold: no more probing of this instance.
        var runs = _runs;
        await worker.ProbeOnceAsync(default);
        Assert.Equal(runs, _runs);

        // The restarted container starts over from liveness' initial Success.
        Running("c2", Start.AddSeconds(30));
        _answers.Enqueue(Ok);
        await worker.ProbeOnceAsync(default);
        Assert.Null(manager.FailedProbe(container, "c2"));
        Assert.Null(manager.Results.Get("c1", ProbeKind.Liveness));
    }

    [Fact]
    public async Task NothingIsProbedBeforeInitialDelaySeconds()
    {
        var (_, worker) = Worker(Container(liveness: Probe(delay: 10)), ProbeKind.Liveness);
        Running("c1", Start);
        _clock.Advance(TimeSpan.FromSeconds(9));
        await worker.ProbeOnceAsync(default);
        Assert.Equal(0, _runs);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _answers.Enqueue(Ok);
        await worker.ProbeOnceAsync(default);
        Assert.Equal(1, _runs);
    }

    [Fact]
    public async Task TheStartupProbeGatesLivenessAndReadinessAndStopsOnceSucceeded()
    {
        var container = Container(liveness: Probe(), readiness: Probe(), startup: Probe(failure: 30));
        var (manager, startup) = Worker(container, ProbeKind.Startup);
        var liveness = new ProbeWorker(Pod(container), container, ProbeKind.Liveness, container.LivenessProbe!,
            new ProbeContext(new Scripted(this), manager.Results, _ => _status, _ => "sandbox-1", _events, _clock, NullLogger.Instance));
        Running("c1", Start);
        await liveness.ProbeOnceAsync(default);
        Assert.Equal(0, _runs);
        Assert.False(manager.Started(container, "c1"));

        _answers.Enqueue(Ok);
        await startup.ProbeOnceAsync(default);
        Assert.True(manager.Started(container, "c1"));
        await startup.ProbeOnceAsync(default);
        Assert.Equal(1, _runs);

        _answers.Enqueue(Ok);
        await liveness.ProbeOnceAsync(default);
        Assert.Equal(2, _runs);
    }

    [Fact]
    public async Task AWarningCountsAsSuccessWithAProbeWarningEventAndAnErrorChangesNothing()
    {
        var container = Container(readiness: Probe());
        var (manager, worker) = Worker(container, ProbeKind.Readiness);
        Running("c1", Start);
        _answers.Enqueue(new ProbeOutcome(ProbeResult.Warning, "Probe terminated redirects, Response body: "));
        await worker.ProbeOnceAsync(default);
        Assert.True(manager.Ready(container, "c1"));
        Assert.Contains(_events.All, e => e.Reason == "ProbeWarning" && e.Message == "Readiness probe warning: Probe terminated redirects, Response body: ");

        _answers.Enqueue(new ProbeOutcome(ProbeResult.Unknown, "sandbox gone"));
        await worker.ProbeOnceAsync(default);
        Assert.True(manager.Ready(container, "c1"));
        Assert.Contains(_events.All, e => e.Message == "Readiness probe errored: sandbox gone");
    }

    [Fact]
    public async Task AContainerThatStoppedRunningIsNotReady()
    {
        var container = Container(readiness: Probe());
        var (manager, worker) = Worker(container, ProbeKind.Readiness);
        Running("c1", Start);
        _answers.Enqueue(Ok);
        await worker.ProbeOnceAsync(default);
        Assert.True(manager.Ready(container, "c1"));
        _status.ContainerStatuses[0].State = new V1ContainerState { Terminated = new V1ContainerStateTerminated { ExitCode = 1 } };
        await worker.ProbeOnceAsync(default);
        Assert.False(manager.Ready(container, "c1"));
    }
}
