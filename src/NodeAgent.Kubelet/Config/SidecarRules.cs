using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The API server's rules on container restart policies, lifecycle and probes (<c>validateInitContainers</c>,
/// <c>validateContainers</c>, <c>validateLifecycle</c>): only <c>Always</c> may be an init container's
/// restartPolicy (a sidecar); regular containers may not set one; a plain init container may have no lifecycle
/// hooks and no probes; <c>lifecycle.stopSignal</c> needs <c>spec.os.name</c> and, on Linux, one of the signal
/// names the API lists (<c>SIGTERM</c>, <c>SIGRTMIN+1</c>…).
/// </summary>
internal static class SidecarRules
{
    private const string NotSidecar = "may not be set for init containers without restartPolicy=Always";

    public static void ValidateInit(FieldErrorList errors, string path, V1Container c, V1PodOS? os)
    {
        if (c.RestartPolicy is { } policy && policy != "Always")
        {
            errors.NotSupported($"{path}.restartPolicy", policy, ["Always"]);
        }

        if (c.RestartPolicy == "Always")
        {
            ValidateStopSignal(errors, path, c, os);
            return;
        }

        if (c.Lifecycle is not null)
        {
            errors.Forbidden($"{path}.lifecycle", NotSidecar);
        }

        if (c.LivenessProbe is not null)
        {
            errors.Forbidden($"{path}.livenessProbe", NotSidecar);
        }

        if (c.ReadinessProbe is not null)
        {
            errors.Forbidden($"{path}.readinessProbe", NotSidecar);
        }

        if (c.StartupProbe is not null)
        {
            errors.Forbidden($"{path}.startupProbe", NotSidecar);
        }
    }

    public static void ValidateRegular(FieldErrorList errors, string path, V1Container c, V1PodOS? os)
    {
        if (c.RestartPolicy is not null)
        {
            errors.Forbidden($"{path}.restartPolicy", "may not be set for non-init containers");
        }

        ValidateStopSignal(errors, path, c, os);
    }

    private static void ValidateStopSignal(FieldErrorList errors, string path, V1Container c, V1PodOS? os)
    {
        if (c.Lifecycle?.StopSignal is not { } signal)
        {
            return;
        }

        var field = $"{path}.lifecycle.stopSignal";
        if (string.IsNullOrEmpty(os?.Name))
        {
            errors.Forbidden(field, "may not be set for containers with empty `spec.os.name`");
        }
        else if (os.Name == "linux" && !IsApiSignalName(signal))
        {
            errors.NotSupported(field, signal, ApiSignalNames);
        }
        else if (os.Name == "windows" && signal is not ("SIGTERM" or "SIGKILL"))
        {
            errors.NotSupported(field, signal, ["SIGKILL", "SIGTERM"]);
        }
    }

    /// <summary>The Linux signal names the API accepts: kubelet's spelling of each signal 1–64, and the aliases.</summary>
    private static readonly string[] ApiSignalNames =
        [.. Enumerable.Range(1, Signals.SIGRTMAX).Where(n => n is < 32 or >= Signals.SIGRTMIN).Select(Signals.Name), "SIGCLD", "SIGIOT", "SIGPOLL"];

    private static bool IsApiSignalName(string signal) => Array.IndexOf(ApiSignalNames, signal) >= 0;
}
