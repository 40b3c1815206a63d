namespace NodeAgent.Kubelet.Prober;

/// <summary>kubelet's three probe types.</summary>
public enum ProbeKind { Liveness, Readiness, Startup }

/// <summary>A probe's answer, as kubelet's probe.Result: a warning counts as a success (with a ProbeWarning event);
/// Unknown means the probe could not be run (nothing changes).</summary>
public enum ProbeResult { Unknown, Success, Warning, Failure }

/// <summary>A probe's answer and what it said (the body, the command's output, or the error).</summary>
public readonly record struct ProbeOutcome(ProbeResult Result, string Output);

/// <summary>Runs a command in a container for exec probes: the runtime's ExecSync.</summary>
public interface IContainerExec
{
    /// <summary>The command's exit code and its combined output; throws a RuntimeException when it cannot run.</summary>
    Task<(int ExitCode, string Output)> ExecAsync(string containerId, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Runs one probe against one container instance (<see cref="ProbeRunner"/>).</summary>
public interface IProbeRunner
{
    Task<ProbeOutcome> RunAsync(ProbeTarget target, k8s.Models.V1Probe probe, CancellationToken cancellationToken);
}
