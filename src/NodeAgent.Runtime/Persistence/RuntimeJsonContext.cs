using System.Text.Json.Serialization;
using NodeAgent.Cri;

namespace NodeAgent.Runtime.Persistence;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SandboxRecord))]
[JsonSerializable(typeof(ContainerRecord))]
[JsonSerializable(typeof(Cri.ContainerStatus))]
[JsonSerializable(typeof(Cri.PodSandboxStatus))]
public sealed partial class RuntimeJsonContext : JsonSerializerContext;
