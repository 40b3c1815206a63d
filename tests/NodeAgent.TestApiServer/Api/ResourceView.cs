using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Api;

/// <summary>How a type served from another type's storage converts to and from the stored form.</summary>
public sealed record ResourceView(string StoreKey, Func<JsonObject, JsonObject> FromStored, Func<JsonObject, JsonObject> ToStored, Action<ResourceInfo, JsonObject> ValidateCreate);
