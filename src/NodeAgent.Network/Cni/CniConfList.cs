using System.Text.Json;
using System.Text.Json.Nodes;

namespace NodeAgent.Network.Cni;

/// <summary>A network configuration list (CNI spec): name, version and the plugins to chain.</summary>
public sealed record CniConfList(string Name, string CniVersion, IReadOnlyList<JsonObject> Plugins, string SourcePath)
{
    /// <summary>Loads the first configuration in lexical order from <paramref name="confDir"/>, as kubelet's CNI does.</summary>
    public static CniConfList LoadFirst(string confDir)
    {
        var files = Directory.Exists(confDir)
            ? Directory.EnumerateFiles(confDir).Where(f => f.EndsWith(".conflist", StringComparison.Ordinal) || f.EndsWith(".conf", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList()
            : [];
        if (files.Count == 0)
        {
            throw new IOException($"CNI: no network configuration (*.conflist, *.conf, *.json) in {confDir}");
        }

        return Parse(File.ReadAllText(files[0]), files[0]);
    }

    public static CniConfList Parse(string json, string source)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new IOException($"CNI config {source}: not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new IOException($"CNI config {source}: invalid JSON: {ex.Message}", ex);
        }

        var name = (string?)root["name"] ?? throw new IOException($"CNI config {source}: \"name\" is missing");
        var version = (string?)root["cniVersion"] ?? "0.4.0";
        List<JsonObject> plugins;
        if (root["plugins"] is JsonArray array)
        {
            plugins = array.Select((p, i) => p as JsonObject ?? throw new IOException($"CNI config {source}: plugins[{i}] is not an object")).ToList();
        }
        else if (root["type"] is not null)
        {
            plugins = [root]; // a single-plugin .conf
        }
        else
        {
            throw new IOException($"CNI config {source}: neither \"plugins\" nor \"type\"");
        }

        for (var i = 0; i < plugins.Count; i++)
        {
            if (plugins[i]["type"] is null)
            {
                throw new IOException($"CNI config {source}: plugins[{i}] has no \"type\"");
            }
        }

        return new CniConfList(name, version, plugins, source);
    }
}
