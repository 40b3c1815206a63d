using NodeAgent.Cri;

namespace NodeAgent.Runtime.Persistence;

/// <summary>A container as persisted in <c>container.json</c> at creation; never changed afterwards.</summary>
public sealed record ContainerRecord
{
    public required string Id { get; init; }

    public required string SandboxId { get; init; }

    public required ContainerConfig Config { get; init; }

    public required string ImageRef { get; init; }

    public required string ImageId { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public required IReadOnlyList<string> Command { get; init; }

    public required string LogPath { get; init; }

    public int StopSignal { get; init; } = 15;

    public required string CgroupPath { get; init; }
}
