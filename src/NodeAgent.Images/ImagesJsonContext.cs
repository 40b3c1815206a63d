using System.Text.Json.Serialization;

namespace NodeAgent.Images;

/// <summary>Source-generated JSON for the image metadata (AOT-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<ImageRecord>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class ImagesJsonContext : JsonSerializerContext;
