using System.Text.Json.Serialization;

namespace NodeAgent.Network;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Bridge.PodNetworkRecord))]
internal sealed partial class NetworkJsonContext : JsonSerializerContext;
