using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Prober;

namespace NodeAgent.Kubelet.Pods;

/// <summary>A running sidecar to kill and start again (a failed liveness or startup probe, a changed definition),
/// with kubelet's Killing message and the grace period to give it.</summary>
public sealed record SidecarToKill(V1Container Spec, ContainerStatus Running, string Message, TimeSpan Grace);

/// <summary>
/// What one sync does with a pod's init containers, as kubelet's computeInitContainerActions decides it (sidecar
/// containers enabled, as in kubelet 1.32): init containers run in order; a plain one must exit 0 before the next
/// starts; a sidecar (<c>restartPolicy: Always</c>) lets the next start once it has <em>started</em> (running, its
/// startup probe, if any, succeeded; its postStart hook ran as part of its start) and is kept running: restarted
/// whenever it exits, whatever the pod's restartPolicy, and killed and restarted when its liveness or startup
/// probe fails. Once the pod has initialized (a regular container was created), plain init containers never run
/// again. A plain init container that failed with restartPolicy Never fails the pod.
/// </summary>
/// <param name="ToStart">Init containers to start (or start again, past their crash-loop backoff), in spec order.</param>
/// <param name="ToKill">Sidecars to kill first (a failed probe); each is also in <paramref name="ToStart"/>.</param>
/// <param name="Initialized">Every init container is done (plain: exited 0; sidecar: started): regular containers may run.</param>
/// <param name="Failed">A plain init container failed and the pod's restartPolicy is Never: the pod has failed.</param>
public sealed record InitContainerPlan(IReadOnlyList<V1Container> ToStart, IReadOnlyList<SidecarToKill> ToKill, bool Initialized, bool Failed)
{
    /// <summary>kubelet's IsRestartableInitContainer: an init container with <c>restartPolicy: Always</c>.</summary>
    public static bool IsSidecar(V1Container container) => container.RestartPolicy == "Always";

    /// <summary>True when <paramref name="name"/> is one of the pod's sidecar containers.</summary>
    public static bool IsSidecar(V1Pod pod, string name) => pod.Spec?.InitContainers?.Any(c => c.Name == name && IsSidecar(c)) == true;

    /// <summary>kubelet's podHasInitialized: a regular container is created or running (an exited one does not
    /// count: after a reboot every container has exited and the new sandbox must initialize again).</summary>
    public static bool RegularContainerCreated(V1Pod pod, PodRuntimeView view) =>
        pod.Spec.Containers.Any(c => view.Attempts(c.Name).FirstOrDefault()?.State is ContainerState.Created or ContainerState.Running);

    /// <summary>Decides the init containers' actions from what the runtime holds and the probes' results.</summary>
    /// <param name="started">Whether a running sidecar has started (its startup probe succeeded, or it has none).</param>
    /// <param name="replace">Why a running sidecar must be killed and started again (null: it need not).</param>
    public static InitContainerPlan Compute(V1Pod pod, PodRuntimeView view, Func<V1Container, string, bool> started,
        Func<V1Container, ContainerStatus, SidecarToKill?> replace)
    {
        var inits = pod.Spec.InitContainers ?? [];
        var toStart = new List<V1Container>();
        var toKill = new List<SidecarToKill>();
        InitContainerPlan Waiting(bool failed = false) => new(toStart, toKill, false, failed);

        // As kubelet walks them backwards: an init container before the last one that ever ran was done once;
        // after initialization (a regular container exists) all were.
        var done = RegularContainerCreated(pod, view) ? inits.Count : LastThatRan(inits, view);
        var neverRestart = pod.Spec.RestartPolicy == "Never";
        for (var i = 0; i < inits.Count; i++)
        {
            var init = inits[i];
            var latest = view.Attempts(init.Name).FirstOrDefault();
            var previously = i < done;
            if (!IsSidecar(init))
            {
                if (previously)
                {
                    continue;
                }

                switch (latest?.State)
                {
                    case ContainerState.Exited when latest.ExitCode == 0:
                        continue;
                    case ContainerState.Running:
                        return Waiting();
                    case ContainerState.Exited when neverRestart:
                        return Waiting(failed: true);
                    default:
                        // Not yet run, failed (retried past its crash-loop backoff), or created and never started.
                        toStart.Add(init);
                        return Waiting();
                }
            }

            if (latest is { State: ContainerState.Running } running)
            {
                if (replace(init, running) is { } kill)
                {
                    toKill.Add(kill);
                    toStart.Add(init);
                }

                if (previously || started(init, running.Id))
                {
                    continue;
                }

                // Not started yet (its startup probe has not succeeded): the next init container waits for it.
                return Waiting();
            }

            // Never run, exited, or created and never started: (re)start it, whatever the pod's restartPolicy.
            toStart.Add(init);
            if (!previously)
            {
                return Waiting();
            }
        }

        return new InitContainerPlan(toStart, toKill, true, false);
    }

    /// <summary>kubelet's shouldKillPod for a pod past initialization: no regular container runs and none will be
    /// started again (restartPolicy Never, or OnFailure after exit 0), so the pod is done and its sidecars, which
    /// never keep a pod alive, are stopped and not restarted.</summary>
    public static bool RegularContainersDone(V1Pod pod, PodRuntimeView view) =>
        pod.Spec.RestartPolicy is "Never" or "OnFailure"
        && pod.Spec.Containers.All(c => view.Attempts(c.Name).FirstOrDefault() is { State: ContainerState.Exited } exited
            && (pod.Spec.RestartPolicy == "Never" || exited.ExitCode == 0));

    private static int LastThatRan(IList<V1Container> inits, PodRuntimeView view)
    {
        for (var i = inits.Count - 1; i >= 0; i--)
        {
            if (view.Attempts(inits[i].Name).Count > 0)
            {
                return i;
            }
        }

        return -1;
    }
}
