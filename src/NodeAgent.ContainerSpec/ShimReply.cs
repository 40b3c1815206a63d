namespace NodeAgent.ContainerSpec;

/// <summary>The single line the shim prints to whoever launched it: the container PID, or why it did not start.</summary>
public sealed class ShimReply
{
    public int Pid { get; set; }

    public string? Error { get; set; }
}
