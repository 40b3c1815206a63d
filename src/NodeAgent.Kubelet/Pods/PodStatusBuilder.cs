using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Prober;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// Computes a pod's status the way kubelet's generateAPIPodStatus does: container statuses from the runtime's
/// attempts, the phase, the conditions, QoS class and start time.
/// </summary>
public static class PodStatusBuilder
{
    public const string ContainerIdScheme = "nodeagent://";

    public static V1PodStatus Build(
        V1Pod pod,
        PodRuntimeView runtime,
        IReadOnlyDictionary<string, ContainerWaiting> waiting,
        string? hostIp,
        DateTime? startTime,
        DateTime now,
        ProbeManager? probes = null,
        TerminationMessages? messages = null,
        PodFailure? failure = null)
    {
        var spec = pod.Spec;
        // kubelet: containers not created yet wait as PodInitializing in a pod with init containers.
        var pending = spec.InitContainers is { Count: > 0 } ? "PodInitializing" : "ContainerCreating";
        var init = (spec.InitContainers ?? []).Select(c => InitContainerStatus(c, runtime, waiting, probes, Message(pod, c, messages), pending)).ToList();
        var main = spec.Containers.Select(c => ContainerStatusFor(c, runtime, waiting, probes, Message(pod, c, messages), pending)).ToList();
        var sidecars = (spec.InitContainers ?? []).Where(InitContainerPlan.IsSidecar).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var incomplete = IncompleteInitContainers(spec, init, main, sidecars);
        var initialized = incomplete.Count == 0;
        var phase = failure is null ? Phase(spec.RestartPolicy ?? "Always", init, main, sidecars.Contains) : "Failed";
        var sandboxReady = runtime.Sandbox?.State == SandboxState.Ready;
        // kubelet's ContainersReady: the sidecars' readiness counts with the regular containers'.
        var readiness = init.Where(s => sidecars.Contains(s.Name)).Concat(main).ToList();
        var containersReady = initialized && readiness.All(s => s.Ready);
        var previous = pod.Status?.Conditions ?? [];
        // hostNetwork pods have the node's address; others the addresses their sandbox got.
        IReadOnlyList<string> podIps = pod.Spec.HostNetwork == true ? (hostIp is null ? [] : [hostIp]) : runtime.Sandbox?.PodIps ?? [];

        var status = new V1PodStatus
        {
            Phase = phase,
            Reason = failure?.Reason,
            Message = failure?.Message,
            HostIP = hostIp,
            HostIPs = hostIp is null ? null : [new V1HostIP { Ip = hostIp }],
            PodIP = podIps.Count > 0 ? podIps[0] : null,
            PodIPs = podIps.Count > 0 ? podIps.Select(ip => new V1PodIP { Ip = ip }).ToList() : null,
            StartTime = startTime,
            QosClass = QosClassifier.Classify(pod).ToString(),
            InitContainerStatuses = init.Count > 0 ? init : null,
            ContainerStatuses = main,
            Conditions =
            [
                Condition("PodReadyToStartContainers", sandboxReady, previous, now),
                Condition("Initialized", initialized, previous, now, initialized ? null : "ContainersNotInitialized",
                    initialized ? null : $"containers with incomplete status: [{string.Join(' ', incomplete)}]"),
                Condition("Ready", containersReady, previous, now, containersReady ? null : "ContainersNotReady", NotReadyMessage(readiness)),
                Condition("ContainersReady", containersReady, previous, now, containersReady ? null : "ContainersNotReady", NotReadyMessage(readiness)),
                Condition("PodScheduled", true, previous, now),
            ],
        };

        if (phase is "Succeeded" or "Failed")
        {
            // A finished pod is not ready, whatever its containers said last.
            foreach (var c in status.Conditions.Where(c => c.Type is "Ready" or "ContainersReady"))
            {
                c.Status = "False";
                c.Reason = "PodCompleted";
                c.Message = null;
            }
        }

        return status;
    }

    /// <summary>
    /// kubelet's GeneratePodInitializedCondition: once a regular container has run the pod stays initialized (its
    /// sidecars may restart); before, a plain init container is complete when it exited 0, a sidecar when it started.
    /// </summary>
    private static List<string> IncompleteInitContainers(V1PodSpec spec, List<V1ContainerStatus> init, List<V1ContainerStatus> main, HashSet<string> sidecars)
    {
        if (main.Any(s => s.State?.Running is not null || s.State?.Terminated is not null))
        {
            return [];
        }

        return init.Where(s => sidecars.Contains(s.Name) ? s.Started != true : s.State?.Terminated?.ExitCode != 0).Select(s => s.Name).ToList();
    }

    /// <summary>An init container's status: a sidecar's as a regular container's (probes decide started and ready);
    /// a plain one is started while it runs and ready once it exited 0 (kubelet's prober manager).</summary>
    private static V1ContainerStatus InitContainerStatus(V1Container container, PodRuntimeView runtime, IReadOnlyDictionary<string, ContainerWaiting> waiting,
        ProbeManager? probes, Func<ContainerStatus, string?>? message, string pending)
    {
        if (InitContainerPlan.IsSidecar(container))
        {
            return ContainerStatusFor(container, runtime, waiting, probes, message, pending);
        }

        var status = ContainerStatusFor(container, runtime, waiting, null, message, pending);
        status.Started = status.State?.Running is not null;
        status.Ready = status.State?.Terminated?.ExitCode == 0;
        return status;
    }

    private static string? NotReadyMessage(IEnumerable<V1ContainerStatus> statuses)
    {
        var notReady = statuses.Where(s => !s.Ready).Select(s => s.Name).ToList();
        return notReady.Count == 0 ? null : $"containers with unready status: [{string.Join(' ', notReady)}]";
    }

    private static V1PodCondition Condition(string type, bool value, IList<V1PodCondition> previous, DateTime now, string? reason = null, string? message = null)
    {
        var status = value ? "True" : "False";
        var old = previous.FirstOrDefault(c => c.Type == type);
        return new V1PodCondition
        {
            Type = type,
            Status = status,
            Reason = reason,
            Message = message,
            LastProbeTime = null,
            LastTransitionTime = old is not null && old.Status == status ? old.LastTransitionTime : now,
        };
    }

    /// <summary>A container's status; with <paramref name="probes"/>, a running container is started once its startup
    /// probe succeeded and ready once started and its readiness probe succeeded (kubelet's prober manager).</summary>
    public static V1ContainerStatus ContainerStatusFor(V1Container container, PodRuntimeView runtime, IReadOnlyDictionary<string, ContainerWaiting> waiting,
        ProbeManager? probes = null, Func<ContainerStatus, string?>? message = null, string pending = "ContainerCreating")
    {
        V1ContainerStateTerminated Terminated(ContainerStatus c) => PodStatusBuilder.Terminated(c, message?.Invoke(c));

        var attempts = runtime.Attempts(container.Name);
        var latest = attempts.FirstOrDefault();
        var status = new V1ContainerStatus
        {
            Name = container.Name,
            Image = container.Image,
            ImageID = latest?.ImageId ?? string.Empty,
            ContainerID = latest is null ? null : ContainerIdScheme + latest.Id,
            RestartCount = latest is null ? 0 : (int)latest.Attempt,
            Ready = false,
            Started = false,
        };

        var previous = attempts.Skip(1).FirstOrDefault(a => a.State == ContainerState.Exited);
        if (waiting.TryGetValue(container.Name, out var wait) && latest?.State != ContainerState.Running)
        {
            // A restart is pending or failed: the newest attempt becomes the last state.
            status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = wait.Reason, Message = wait.Message } };
            if (latest?.State == ContainerState.Exited)
            {
                status.LastState = new V1ContainerState { Terminated = Terminated(latest) };
            }
            else if (previous is not null)
            {
                status.LastState = new V1ContainerState { Terminated = Terminated(previous) };
            }

            return status;
        }

        if (previous is not null)
        {
            status.LastState = new V1ContainerState { Terminated = Terminated(previous) };
        }

        switch (latest?.State)
        {
            case null:
                status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = pending } };
                break;
            case ContainerState.Created:
                status.State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } };
                break;
            case ContainerState.Running:
                status.State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = latest.StartedAt?.UtcDateTime } };
                status.Started = probes?.Started(container, latest.Id) ?? true;
                status.Ready = status.Started == true && (probes?.Ready(container, latest.Id) ?? true);
                break;
            default:
                status.State = new V1ContainerState { Terminated = Terminated(latest) };
                break;
        }

        return status;
    }

    private static Func<ContainerStatus, string?>? Message(V1Pod pod, V1Container container, TerminationMessages? messages) =>
        messages is null ? null : c => messages.For(pod, container, c);

    private static V1ContainerStateTerminated Terminated(ContainerStatus c, string? message) => new()
    {
        ExitCode = c.ExitCode,
        Reason = c.Reason,
        Message = message ?? c.Message,
        StartedAt = c.StartedAt?.UtcDateTime,
        FinishedAt = c.FinishedAt?.UtcDateTime,
        ContainerID = ContainerIdScheme + c.Id,
    };

    /// <summary>kubelet's getPhase, sidecars included: a sidecar still starting keeps the pod Pending, a running one
    /// counts as running, and one that exited never makes the pod fail.</summary>
    public static string Phase(string restartPolicy, IReadOnlyList<V1ContainerStatus> init, IReadOnlyList<V1ContainerStatus> main, Func<string, bool>? isSidecar = null)
    {
        isSidecar ??= _ => false;
        var pendingInit = 0;
        var pendingSidecars = 0;
        var failedInit = 0;
        int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
        foreach (var s in init)
        {
            if (isSidecar(s.Name))
            {
                if (s.State?.Running is not null)
                {
                    running++;
                    if (s.Started != true)
                    {
                        pendingSidecars++;
                    }
                }
                else if (s.State?.Terminated is null && s.LastState?.Terminated is null)
                {
                    // Waiting for its first start (an exited sidecar, or one waiting to restart, is ignored).
                    pendingSidecars++;
                }
            }
            else if (s.State?.Terminated is { } t)
            {
                if (t.ExitCode != 0)
                {
                    failedInit++;
                }
            }
            else if (s.State?.Waiting is not null && s.LastState?.Terminated is { ExitCode: not 0 })
            {
                failedInit++;
            }
            else
            {
                pendingInit++;
            }
        }

        foreach (var s in main)
        {
            if (s.State?.Running is not null)
            {
                running++;
            }
            else if (s.State?.Terminated is { } t)
            {
                stopped++;
                if (t.ExitCode == 0)
                {
                    succeeded++;
                }
            }
            else if (s.State?.Waiting is not null)
            {
                if (s.LastState?.Terminated is { } last)
                {
                    stopped++;
                    if (last.ExitCode == 0)
                    {
                        succeeded++;
                    }
                }
                else
                {
                    waiting++;
                }
            }
            else
            {
                unknown++;
            }
        }

        if (failedInit > 0 && restartPolicy == "Never")
        {
            return "Failed";
        }

        // A sidecar still starting keeps the pod pending, unless a regular container has already run (kubelet's
        // HasAnyRegularContainerStarted: the sidecar is restarting in an initialized pod).
        if (pendingInit > 0 || failedInit > 0 || (pendingSidecars > 0 && !main.Any(s => s.State?.Running is not null || s.State?.Terminated is not null)))
        {
            return "Pending";
        }

        if (waiting > 0)
        {
            return "Pending";
        }

        if (running > 0 && unknown == 0)
        {
            return "Running";
        }

        if (running == 0 && stopped > 0 && unknown == 0)
        {
            if (restartPolicy == "Always")
            {
                return "Running";
            }

            if (stopped == succeeded)
            {
                return "Succeeded";
            }

            return restartPolicy == "OnFailure" ? "Running" : "Failed";
        }

        return "Pending";
    }
}
