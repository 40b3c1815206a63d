namespace NodeAgent.ContainerSpec;

/// <summary>Written by the shim (<c>exit.json</c>) when the container process has ended or could not start.</summary>
public sealed class ExitStatus
{
    /// <summary>Exit code; 128+N when killed by signal N (137 for SIGKILL).</summary>
    public int ExitCode { get; set; }

    public DateTimeOffset ExitedAt { get; set; }

    /// <summary>Set when the process never started (exec failed, a mount failed…); the text names the cause.</summary>
    public string? StartError { get; set; }
}
