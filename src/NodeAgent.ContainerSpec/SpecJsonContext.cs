using System.Text.Json.Serialization;

namespace NodeAgent.ContainerSpec;

/// <summary>Source-generated JSON for the bundle files, so the AOT shim needs no reflection.
/// Properties use setters, not init: source-generated init-only properties lose their defaults when absent.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(ContainerSpec))]
[JsonSerializable(typeof(ShimState))]
[JsonSerializable(typeof(ExitStatus))]
[JsonSerializable(typeof(ShimReply))]
[JsonSerializable(typeof(ExecSpec))]
public sealed partial class SpecJsonContext : JsonSerializerContext;
