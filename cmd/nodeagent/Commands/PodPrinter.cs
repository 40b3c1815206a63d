using k8s.Models;

namespace NodeAgent.Cli.Commands;

/// <summary>The READY, STATUS, RESTARTS and AGE columns of <c>kubectl get pods</c>, computed as kubectl's printer does.</summary>
internal static class PodPrinter
{
    public sealed record Columns(string Ready, string Status, string Restarts, string Age);

    public static Columns Row(V1Pod pod, DateTime now)
    {
        var status = pod.Status ?? new V1PodStatus();
        var reason = string.IsNullOrEmpty(status.Reason) ? status.Phase ?? "Unknown" : status.Reason;
        var restarts = 0;
        var sidecarRestarts = 0;
        DateTime? lastRestart = null;
        DateTime? lastSidecarRestart = null;
        var totalContainers = pod.Spec.Containers.Count;
        var readyContainers = 0;
        // Sidecars (init containers with restartPolicy Always) count among the pod's containers.
        var sidecars = (pod.Spec.InitContainers ?? []).Where(c => c.RestartPolicy == "Always").Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        totalContainers += sidecars.Count;

        var initializing = false;
        var initStatuses = status.InitContainerStatuses ?? [];
        for (var i = 0; i < initStatuses.Count; i++)
        {
            var c = initStatuses[i];
            restarts += c.RestartCount;
            Later(ref lastRestart, c.LastState?.Terminated?.FinishedAt);
            var sidecar = sidecars.Contains(c.Name);
            if (sidecar)
            {
                sidecarRestarts += c.RestartCount;
                Later(ref lastSidecarRestart, c.LastState?.Terminated?.FinishedAt);
            }

            if (c.State?.Terminated is { ExitCode: 0 })
            {
                continue;
            }

            if (sidecar && c.Started == true)
            {
                // A started sidecar counts as initialized (and as a container, ready or not).
                readyContainers += c.Ready ? 1 : 0;
                continue;
            }

            if (c.State?.Terminated is { } t)
            {
                reason = string.IsNullOrEmpty(t.Reason)
                    ? t.Signal is { } sig && sig != 0 ? $"Init:Signal:{sig}" : $"Init:ExitCode:{t.ExitCode}"
                    : "Init:" + t.Reason;
            }
            else if (c.State?.Waiting is { Reason: { Length: > 0 } w } && w != "PodInitializing")
            {
                reason = "Init:" + w;
            }
            else
            {
                reason = $"Init:{i}/{pod.Spec.InitContainers?.Count ?? initStatuses.Count}";
            }

            initializing = true;
            break;
        }

        if (!initializing || status.Conditions?.Any(c => c.Type == "Initialized" && c.Status == "True") == true)
        {
            restarts = sidecarRestarts;
            lastRestart = lastSidecarRestart;
            var hasRunning = false;
            var statuses = status.ContainerStatuses ?? [];
            for (var i = statuses.Count - 1; i >= 0; i--)
            {
                var c = statuses[i];
                restarts += c.RestartCount;
                Later(ref lastRestart, c.LastState?.Terminated?.FinishedAt);
                if (c.State?.Waiting is { Reason: { Length: > 0 } w })
                {
                    reason = w;
                }
                else if (c.State?.Terminated is { } t)
                {
                    reason = string.IsNullOrEmpty(t.Reason)
                        ? t.Signal is { } sig && sig != 0 ? $"Signal:{sig}" : $"ExitCode:{t.ExitCode}"
                        : t.Reason;
                }
                else if (c.Ready && c.State?.Running is not null)
                {
                    hasRunning = true;
                    readyContainers++;
                }
            }

            if (reason == "Completed" && hasRunning)
            {
                reason = status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true ? "Running" : "NotReady";
            }
        }

        if (pod.Metadata.DeletionTimestamp is not null && status.Reason == "NodeLost")
        {
            reason = "Unknown";
        }
        else if (pod.Metadata.DeletionTimestamp is not null && status.Phase is not ("Succeeded" or "Failed"))
        {
            reason = "Terminating";
        }

        var restartText = restarts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (restarts > 0 && lastRestart is { } last)
        {
            restartText += $" ({Table.Duration(now - last)} ago)";
        }

        var created = pod.Metadata.CreationTimestamp ?? status.StartTime;
        return new Columns($"{readyContainers}/{totalContainers}", reason, restartText, created is { } at ? Table.Duration(now - at) : "<unknown>");
    }

    private static void Later(ref DateTime? latest, DateTime? candidate)
    {
        if (candidate is { } c && (latest is null || c > latest))
        {
            latest = c;
        }
    }
}
