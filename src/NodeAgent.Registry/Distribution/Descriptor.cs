namespace NodeAgent.Registry.Distribution;

/// <summary>An OCI content descriptor; the platform fields are set for index entries only.</summary>
public sealed record Descriptor(string? MediaType, string Digest, long Size, string? Os = null, string? Architecture = null, string? Variant = null);
