namespace NodeAgent.ContainerSpec;

/// <summary>Written by the shim (<c>state.json</c>) once the container process runs.</summary>
public sealed class ShimState
{
    public int ShimPid { get; set; }

    public int Pid { get; set; }

    public DateTimeOffset StartedAt { get; set; }
}
