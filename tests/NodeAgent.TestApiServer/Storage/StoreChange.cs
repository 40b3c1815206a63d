using System.Text.Json.Nodes;

namespace NodeAgent.TestApiServer.Storage;

/// <summary>What a write decided: store this object, remove the current one, or leave things as they are.</summary>
public abstract record StoreChange
{
    private StoreChange() { }

    public sealed record Put(JsonObject Object) : StoreChange;

    public sealed record Remove : StoreChange;

    public sealed record Nothing : StoreChange;
}
