using k8s.Models;
using Microsoft.Extensions.Logging;

using NodeAgent.Kubelet.Images;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Reporting;
using NodeAgent.Kubelet.Prober;
using NodeAgent.Kubelet.Volumes;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// One pass of kubelet's SyncPod for one pod: compare the spec with what the runtime has, then create the sandbox,
/// run init containers in order, start, restart (per restartPolicy and crash-loop backoff) or replace containers.
/// </summary>
public sealed partial class PodSyncer(
    IRuntimeService runtime,
    IImageService images,
    ContainerBackoff backoff,
    IPodEventRecorder events,
    PodSandboxFactory sandboxes,
    TimeProvider time,
    ILogger<PodSyncer> logger,
    IImageManager? imageManager = null)
{
    /// <summary>The pod's volumes; null: pods with volume mounts fail to create their containers.</summary>
    public PodVolumes? Volumes { get; set; }

    /// <summary>The API objects env refers to (configMapKeyRef, secretKeyRef, envFrom, service links): those of
    /// the volumes' API source, none without an API server.</summary>
    public IPodApiObjects ApiObjects => Volumes?.Api?.Objects ?? NoPodApiObjects.Instance;

    /// <summary>The containers' termination message files; null: none are mounted.</summary>
    public TerminationMessages? TerminationMessages { get; set; }

    /// <summary>postStart and preStop hooks; null: hooks are not run.</summary>
    public LifecycleHooks? Hooks { get; set; }

    /// <summary>Where each pod's start goes (phases, Started events' breakdown); null: not measured.</summary>
    public PodStartTracker? Starts { get; set; }

    /// <summary>kubelet's started pods and containers counters; null: not counted.</summary>
    public KubeletPodMetrics? Metrics { get; set; }

    /// <summary>The containers' probes: a running container whose liveness or startup probe failed is restarted.</summary>
    public ProbeManager? Probes { get; set; }

    /// <summary>The node's address, for the downward API's status.hostIP.</summary>
    public Func<string?> HostIp { get; set; } = () => null;

    /// <summary>Seccomp profiles by kubelet's rules (<c>--seccomp-default</c>, <c>&lt;root-dir&gt;/seccomp</c>); none: Unconfined.</summary>
    public SeccompProfiles? Seccomp { get; set; }

    // Without an image manager (no registry puller), only images already in the store can run.
    private readonly IImageManager _imageManager = imageManager ?? new ImageManager(images, events, time, canPull: false);

    public async Task<PodSyncResult> SyncAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        var waiting = new Dictionary<string, ContainerWaiting>();
        TimeSpan? retry = null;
        var uid = pod.Metadata.Uid;
        var view = View(pod);
        Starts?.SyncBegins(uid, view.Sandbox is { State: SandboxState.Ready });
        var began = time.GetTimestamp();
        // kubelet's WaitForAttachAndMount: the pod's volumes before its sandbox (a refresh on later syncs).
        if (Volumes is not null)
        {
            await Volumes.SetUpAsync(pod, cancellationToken);
        }

        string sandboxId;
        if (view.Sandbox is { State: SandboxState.Ready } s)
        {
            sandboxId = s.Id;
        }
        else
        {
            try
            {
                sandboxId = await NewSandboxAsync(pod, view, cancellationToken);
            }
            finally
            {
                Starts?.Add(uid, PodStartPhases.Sandbox, began);
            }

            Starts?.SandboxReady(uid);
        }

        view = View(pod);
        if (InitContainerPlan.RegularContainersDone(pod, view))
        {
            // kubelet: no regular container runs or will run again: the pod is done, its sidecars are stopped.
            await StopSidecarsAsync(pod, view, cancellationToken);
            return new PodSyncResult(waiting, retry);
        }

        // Init containers in order (sidecars kept running); a started sidecar lets the next one start at once.
        for (var round = 0; round <= (pod.Spec.InitContainers?.Count ?? 0); round++)
        {
            var plan = InitContainerPlan.Compute(pod, view, (c, id) => Probes?.Started(c, id) ?? true, (c, running) => SidecarReplacement(pod, c, running));
            if (plan.Failed)
            {
                await StopSidecarsAsync(pod, view, cancellationToken);
                return new PodSyncResult(waiting, retry);
            }

            foreach (var kill in plan.ToKill)
            {
                await StopContainerAsync(pod, kill.Spec, kill.Running, kill.Grace, kill.Message, cancellationToken);
            }

            var sidecarStarted = false;
            foreach (var init in plan.ToStart)
            {
                var started = await EnsureStartedAsync(pod, init, sandboxId, View(pod).Attempts(init.Name).FirstOrDefault(), waiting, cancellationToken);
                retry = Min(retry, started);
                sidecarStarted |= started is null && InitContainerPlan.IsSidecar(init);
            }

            if (plan.Initialized)
            {
                break;
            }

            if (!sidecarStarted)
            {
                return new PodSyncResult(waiting, retry);
            }

            view = View(pod);
        }

        foreach (var container in pod.Spec.Containers)
        {
            var latest = view.Attempts(container.Name).FirstOrDefault();
            if (latest is { State: ContainerState.Running })
            {
                if (Replacement(pod, container, latest, $"Container {container.Name}", ", will be restarted") is not { } replace)
                {
                    continue;
                }

                await StopContainerAsync(pod, container, latest, replace.Grace, replace.Message, cancellationToken);
                latest = runtime.ContainerStatus(latest.Id);
            }

            if (latest is { State: ContainerState.Exited } && !ShouldRestart(pod, latest))
            {
                continue;
            }

            retry = Min(retry, await EnsureStartedAsync(pod, container, sandboxId, latest, waiting, cancellationToken));
        }

        return new PodSyncResult(waiting, retry);
    }

    /// <summary>
    /// Why a running container must be killed and started again, as kubelet's computePodActions finds it: its
    /// definition changed, or its liveness (or startup) probe failed, in which case the probe's own grace period,
    /// if it has one, replaces the pod's. Null: it keeps running.
    /// </summary>
    private (string Message, TimeSpan Grace)? Replacement(V1Pod pod, V1Container container, ContainerStatus running, string what, string suffix)
    {
        if (running.Labels.GetValueOrDefault(ContainerConfigFactory.HashLabel) != ContainerConfigFactory.Hash(container))
        {
            return ($"{what} definition changed{suffix}", GracePeriod(pod));
        }

        if (Probes?.FailedProbe(container, running.Id) is not { } failed)
        {
            return null;
        }

        var probe = failed == ProbeKind.Liveness ? container.LivenessProbe : container.StartupProbe;
        var grace = probe?.TerminationGracePeriodSeconds is { } seconds ? GracePeriods.FromSeconds(seconds) : GracePeriod(pod);
        return ($"{what} failed {failed.ToString().ToLowerInvariant()} probe{suffix}", grace);
    }

    // kubelet's messages for a sidecar: "Init container x definition changed", "Init container x failed liveness probe".
    private SidecarToKill? SidecarReplacement(V1Pod pod, V1Container sidecar, ContainerStatus running) =>
        Replacement(pod, sidecar, running, $"Init container {sidecar.Name}", "") is { } r ? new SidecarToKill(sidecar, running, r.Message, r.Grace) : null;

    /// <summary>The pod is done (its regular containers will not run again, or an init container failed it): its
    /// running sidecars are stopped, in reverse order, as kubelet's killPod stops them.</summary>
    private async Task StopSidecarsAsync(V1Pod pod, PodRuntimeView view, CancellationToken cancellationToken)
    {
        var running = view.Containers.Where(c => c.State == ContainerState.Running && InitContainerPlan.IsSidecar(pod, c.Name)).ToList();
        if (running.Count > 0)
        {
            await StopInOrderAsync(pod, running, GracePeriod(pod), cancellationToken);
        }
    }

    /// <summary>
    /// Stops containers as kubelet's killContainersWithSyncResult does: all at once, each with its Killing event and
    /// preStop hook, but sidecars send their stop signal only after the regular containers and the sidecars declared
    /// after them have stopped (<see cref="TerminationOrdering"/>).
    /// </summary>
    private async Task StopInOrderAsync(V1Pod pod, IReadOnlyList<ContainerStatus> running, TimeSpan grace, CancellationToken cancellationToken)
    {
        if (running.Count == 0)
        {
            return;
        }

        var ordering = new TerminationOrdering(pod, running.Select(c => c.Name));
        await Task.WhenAll(running.Select(async c =>
        {
            try
            {
                await StopContainerAsync(pod, Spec(pod, c.Name), c, grace, $"Stopping container {c.Name}", cancellationToken, ordering: ordering);
            }
            finally
            {
                ordering.Stopped(c.Name);
            }
        }));
    }

    /// <summary>kubelet's message for a pod past its <c>activeDeadlineSeconds</c>.</summary>
    public const string DeadlineMessage = "Pod was active on the node longer than the specified deadline";

    /// <summary>
    /// kubelet's activeDeadlineHandler: the pod ran longer than <c>spec.activeDeadlineSeconds</c> since it started on
    /// this node, so it fails as a whole (phase Failed, reason <c>DeadlineExceeded</c>): every running container is
    /// stopped the one way containers stop (preStop, then the grace period) and none is started again. Its sandbox,
    /// volumes and logs stay until the pod is removed.
    /// </summary>
    public Task<PodSyncResult> StopForDeadlineAsync(V1Pod pod, CancellationToken cancellationToken) =>
        StopForFailureAsync(pod, new PodFailure("DeadlineExceeded", DeadlineMessage), GracePeriod(pod), cancellationToken);

    /// <summary>
    /// The pod failed as a whole (past its deadline, evicted): every running container is stopped the one way
    /// containers stop, within <paramref name="grace"/>, none is started again, and the status carries
    /// <paramref name="failure"/>.
    /// </summary>
    public async Task<PodSyncResult> StopForFailureAsync(V1Pod pod, PodFailure failure, TimeSpan grace, CancellationToken cancellationToken)
    {
        var running = View(pod).Containers.Where(c => c.State == ContainerState.Running).ToList();
        await StopInOrderAsync(pod, running, grace, cancellationToken);
        return new PodSyncResult(new Dictionary<string, ContainerWaiting>(), null) { Failure = failure };
    }

    /// <summary>How long the pod may still run before its <c>activeDeadlineSeconds</c> (null: no deadline or not yet
    /// started); zero or less: it is past.</summary>
    public static TimeSpan? DeadlineLeft(V1Pod pod, DateTime? startTime, DateTime now) =>
        pod.Spec?.ActiveDeadlineSeconds is { } seconds && startTime is { } started
            ? GracePeriods.FromSeconds(seconds) - (now - started)
            : null;

    /// <summary>Stops every container with the grace period, then stops and removes the sandbox.</summary>
    public async Task KillPodAsync(V1Pod pod, TimeSpan grace, CancellationToken cancellationToken)
    {
        var view = View(pod);
        var running = view.Containers.Where(c => c.State == ContainerState.Running).ToList();
        await StopInOrderAsync(pod, running, grace, cancellationToken);
        foreach (var sandbox in runtime.ListPodSandboxes(PodFilter(pod)).Where(s => s.Config.Uid == pod.Metadata.Uid))
        {
            await runtime.RemovePodSandboxAsync(sandbox.Id, cancellationToken);
        }

        backoff.Forget(pod.Metadata.Uid);
        TerminationMessages?.ForgetPod(pod, view.Containers.Select(c => c.Id));
        ApiObjects.ForgetPod(pod.Metadata.Uid);
        Volumes?.Remove(pod.Metadata.Uid);
        // kubelet's container GC removes the log directories of pods that are gone.
        PodPaths.RemoveLogDirectory(sandboxes.PodLogRoot, pod);
    }

    /// <summary>Forgets what is kept per pod (crash-loop and image pull backoffs): the pod is gone.</summary>
    public void ForgetPod(string uid)
    {
        backoff.Forget(uid);
        _imageManager.Forget(uid);
    }

    /// <summary>What the runtime holds for this pod only: filtered lists, never the whole node.</summary>
    public PodRuntimeView View(V1Pod pod)
    {
        var sandbox = Sandbox(pod);
        var containers = sandbox is null ? [] : runtime.ListContainers(new ContainerFilter { PodSandboxId = sandbox.Id });
        return new PodRuntimeView(sandbox, containers);
    }

    /// <summary>The pod's newest sandbox (the probes' target; no container list).</summary>
    public PodSandboxStatus? Sandbox(V1Pod pod) =>
        runtime.ListPodSandboxes(PodFilter(pod))
            .Where(s => s.Config.Uid == pod.Metadata.Uid)
            .OrderByDescending(s => s.Config.Attempt)
            .FirstOrDefault();

    private static PodSandboxFilter PodFilter(V1Pod pod) => new()
    {
        LabelSelector = new Dictionary<string, string> { [ContainerConfigFactory.PodUidLabel] = pod.Metadata.Uid },
    };

    private async Task<string> NewSandboxAsync(V1Pod pod, PodRuntimeView view, CancellationToken cancellationToken)
    {
        uint attempt = 0;
        if (view.Sandbox is { } old)
        {
            attempt = old.Config.Attempt + 1;
            LogSandboxReplaced(PodPaths.FullName(pod), old.Id);
            await runtime.RemovePodSandboxAsync(old.Id, cancellationToken);
        }

        Metrics?.SandboxStarting();
        try
        {
            return await runtime.RunPodSandboxAsync(sandboxes.Create(pod, attempt), cancellationToken);
        }
        catch (RuntimeException ex)
        {
            Metrics?.SandboxFailed();
            events.Record(pod, "Warning", "FailedCreatePodSandBox", $"Failed to create pod sandbox: {ex.Message}");
            throw;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Metrics?.SandboxFailed();
            throw;
        }
    }

    private async Task<TimeSpan?> EnsureStartedAsync(V1Pod pod, V1Container container, string sandboxId, ContainerStatus? latest,
        Dictionary<string, ContainerWaiting> waiting, CancellationToken cancellationToken)
    {
        var key = ContainerBackoff.Key(pod.Metadata.Uid, container.Name);
        if (latest is { State: ContainerState.Exited } exited && backoff.IsInBackoff(key, exited.FinishedAt ?? time.GetUtcNow(), out var remaining))
        {
            var delay = backoff.Current(key);
            var message = $"back-off {Seconds(delay)} restarting failed container={container.Name} pod={PodPaths.FullName(pod)}";
            waiting[container.Name] = new ContainerWaiting("CrashLoopBackOff", message);
            events.Record(pod, "Warning", "BackOff", "Back-off restarting failed container " + container.Name, FieldPath(pod, container));
            return remaining;
        }

        var uid = pod.Metadata.Uid;
        var init = IsInit(pod, container);
        // kubelet counts the attempt past the crash-loop backoff, before the image (its startContainer's first step).
        Metrics?.ContainerStarting(init);
        var pulling = time.GetTimestamp();
        var ensured = await _imageManager.EnsureImageExistsAsync(pod, container, cancellationToken);
        Starts?.Add(uid, PodStartPhases.ImagePull, pulling, container.Name);
        if (ensured.Waiting is { } imageWaiting)
        {
            Metrics?.ContainerFailed(init, imageWaiting.Reason);
            waiting[container.Name] = imageWaiting;
            return ensured.RetryAfter ?? ContainerBackoff.Initial;
        }

        var attempt = latest is null ? 0u : latest.Attempt + 1;
        if (latest is not null)
        {
            backoff.Next(key);
        }

        string id;
        var creating = time.GetTimestamp();
        try
        {
            var env = new PodEnvContext(HostIp(), runtime.PodSandboxStatus(sandboxId)?.PodIps ?? [])
            {
                Api = ApiObjects.IsAvailable ? await EnvApiValues.LoadAsync(pod, container, ApiObjects, cancellationToken) : null,
            };
            foreach (var warning in EnvResolver.InvalidEnvFromKeys(pod, container, env))
            {
                events.Record(pod, "Warning", "InvalidEnvironmentVariableNames", warning);
            }

            IReadOnlyList<VolumeMount> mounts = [.. Volumes?.MountsFor(pod, container) ?? [], .. TerminationMessages?.MountFor(pod, container, attempt) ?? []];
            var config = ContainerConfigFactory.Create(pod, container, attempt, env, mounts);
            id = await runtime.CreateContainerAsync(sandboxId, Seccomp?.Apply(pod, container, config) ?? config, cancellationToken);
        }
        catch (ContainerConfigException ex)
        {
            Metrics?.ContainerFailed(init, "CreateContainerConfigError");
            waiting[container.Name] = new ContainerWaiting("CreateContainerConfigError", ex.Message);
            events.Record(pod, "Warning", "Failed", "Error: " + ex.Message, FieldPath(pod, container));
            return backoff.Next(key);
        }
        catch (RuntimeException ex)
        {
            var reason = ex.Kind == RuntimeErrorKind.CreateContainerConfigError ? "CreateContainerConfigError" : "CreateContainerError";
            Metrics?.ContainerFailed(init, reason);
            waiting[container.Name] = new ContainerWaiting(reason, ex.Message);
            events.Record(pod, "Warning", "Failed", "Error: " + ex.Message, FieldPath(pod, container));
            return backoff.Next(key);
        }
        finally
        {
            Starts?.Add(uid, PodStartPhases.ContainerCreate, creating, container.Name);
        }

        events.Record(pod, "Normal", "Created", $"Created container {container.Name}", FieldPath(pod, container));
        var starting = time.GetTimestamp();
        try
        {
            await runtime.StartContainerAsync(id, cancellationToken);
            Starts?.Add(uid, PodStartPhases.ContainerStart, starting, container.Name);
            // kubelet's text first, then (during the pod's start) where the time went.
            var breakdown = Starts?.ContainerStarted(uid, container.Name);
            events.Record(pod, "Normal", "Started", $"Started container {container.Name}" + (breakdown is null ? "" : " " + breakdown), FieldPath(pod, container));
            if (container.Lifecycle?.PostStart is { } postStart && Hooks is not null
                && await Hooks.RunAsync(Target(pod, container, id, sandboxId), postStart, PostStartLimit, cancellationToken) is { } hookError)
            {
                // kubelet: the reason goes to the log only (it may hold secrets); the container is killed and
                // waits as PostStartHookError, restarted with the crash-loop backoff.
                LogHookFailed(PodPaths.FullName(pod), container.Name, "PostStart", hookError);
                events.Record(pod, "Warning", "FailedPostStartHook", "PostStartHook failed", FieldPath(pod, container));
                if (runtime.ContainerStatus(id) is { } started)
                {
                    await StopContainerAsync(pod, container, started, GracePeriod(pod), "FailedPostStartHook", cancellationToken, runPreStop: false);
                }
                waiting[container.Name] = new ContainerWaiting("PostStartHookError", hookError);
                return backoff.Current(key) == TimeSpan.Zero ? backoff.Next(key) : backoff.Current(key);
            }
        }
        catch (RuntimeException ex)
        {
            Metrics?.ContainerFailed(init, "RunContainerError");
            events.Record(pod, "Warning", "Failed", "Error: " + ex.Message, FieldPath(pod, container));
            return backoff.Current(key) == TimeSpan.Zero ? backoff.Next(key) : backoff.Current(key);
        }

        // Keep one dead attempt per container for lastState, as kubelet's container GC does.
        foreach (var old in View(pod).Attempts(container.Name).Skip(2).Where(c => c.State != ContainerState.Running))
        {
            await runtime.RemoveContainerAsync(old.Id, cancellationToken);
        }

        return null;
    }

    /// <summary>How long a postStart hook may run (kubelet has no limit; one here keeps a hung hook from holding the
    /// pod's worker for ever).</summary>
    public static readonly TimeSpan PostStartLimit = TimeSpan.FromMinutes(5);

    /// <summary>kubelet's minimum shutdown window after a preStop hook (minimumGracePeriodInSeconds).</summary>
    private static readonly TimeSpan MinimumGraceAfterHook = TimeSpan.FromSeconds(2);

    /// <summary>
    /// kubelet's killContainer, the one way a container is stopped here (pod deletion, a changed definition, a failed
    /// probe or postStart hook, a finished pod's sidecars): the Killing event, the preStop hook within the grace
    /// period, the wait for its turn (sidecars: <see cref="TerminationOrdering"/>), then the stop signal (the
    /// container's <c>lifecycle.stopSignal</c>, else the image's STOPSIGNAL, else SIGTERM: the runtime holds it from
    /// the create) and SIGKILL after what is left of the grace period (at least 2 s after a hook or a wait, as kubelet).
    /// </summary>
    private async Task StopContainerAsync(V1Pod pod, V1Container? spec, ContainerStatus container, TimeSpan grace, string message,
        CancellationToken cancellationToken, bool runPreStop = true, TerminationOrdering? ordering = null)
    {
        events.Record(pod, "Normal", "Killing", message, spec is null ? null : FieldPath(pod, spec));
        var waited = false;
        if (runPreStop && spec?.Lifecycle?.PreStop is { } preStop && Hooks is not null && grace > TimeSpan.Zero)
        {
            var started = time.GetTimestamp();
            if (await Hooks.RunAsync(Target(pod, spec, container.Id, container.SandboxId), preStop, grace, cancellationToken) is { } hookError)
            {
                LogHookFailed(PodPaths.FullName(pod), spec.Name, "PreStop", hookError);
                events.Record(pod, "Warning", "FailedPreStopHook", "PreStopHook failed", FieldPath(pod, spec));
            }
            grace -= time.GetElapsedTime(started);
            waited = true;
        }

        if (ordering is not null && grace > TimeSpan.Zero)
        {
            grace -= await ordering.WaitForTurnAsync(container.Name, grace, time, cancellationToken);
            waited |= ordering.WaitsFor(container.Name).Count > 0;
        }

        if (waited && grace < MinimumGraceAfterHook)
        {
            grace = MinimumGraceAfterHook;
        }
        await runtime.StopContainerAsync(container.Id, grace, cancellationToken);
    }

    private ProbeTarget Target(V1Pod pod, V1Container container, string containerId, string sandboxId) =>
        new(pod, container, containerId, sandboxId, runtime.PodSandboxStatus(sandboxId)?.PodIps.FirstOrDefault());

    private static V1Container? Spec(V1Pod pod, string name) =>
        pod.Spec.Containers.FirstOrDefault(c => c.Name == name) ?? pod.Spec.InitContainers?.FirstOrDefault(c => c.Name == name);

    private static bool ShouldRestart(V1Pod pod, ContainerStatus exited) => pod.Spec.RestartPolicy switch
    {
        "Never" => false,
        "OnFailure" => exited.ExitCode != 0,
        _ => true,
    };

    /// <summary>The pod's grace period, saturated to what a timer accepts (never throws).</summary>
    public static TimeSpan GracePeriod(V1Pod pod) => GracePeriods.For(pod);

    private static string FieldPath(V1Pod pod, V1Container container) =>
        IsInit(pod, container) ? $"spec.initContainers{{{container.Name}}}" : $"spec.containers{{{container.Name}}}";

    private static bool IsInit(V1Pod pod, V1Container container) => pod.Spec.InitContainers?.Any(c => c.Name == container.Name) ?? false;

    private static string Seconds(TimeSpan t) => t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds}s" : $"{(int)t.TotalSeconds}s";

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : (a < b ? a : b);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod} container {Container}: {Hook} hook failed: {Error}")]
    private partial void LogHookFailed(string pod, string container, string hook, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod {Pod}: sandbox {Sandbox} is not ready, creating a new one")]
    private partial void LogSandboxReplaced(string pod, string sandbox);
}
