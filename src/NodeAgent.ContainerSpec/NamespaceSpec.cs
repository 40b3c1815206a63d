namespace NodeAgent.ContainerSpec;

/// <summary>A namespace of kind <c>net</c>, <c>ipc</c>, <c>uts</c>, <c>pid</c> or <c>mnt</c>; joined when Path is set, created otherwise.</summary>
public sealed class NamespaceSpec
{
    public required string Type { get; set; }

    public string? Path { get; set; }
}
