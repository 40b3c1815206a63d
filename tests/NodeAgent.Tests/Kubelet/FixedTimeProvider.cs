namespace NodeAgent.Tests.Kubelet;

/// <summary>A clock that reads a settable instant; timers remain the system's.</summary>
public sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
