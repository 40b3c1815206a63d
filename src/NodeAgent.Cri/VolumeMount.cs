namespace NodeAgent.Cri;

/// <summary>A host path bound into the container.</summary>
public sealed record VolumeMount(string HostPath, string ContainerPath, bool ReadOnly = false);
