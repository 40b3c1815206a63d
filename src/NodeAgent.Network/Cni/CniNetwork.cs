using System.Text.Json;
using System.Text.Json.Nodes;
using NodeAgent.Linux;
using NodeAgent.Cri;

namespace NodeAgent.Network.Cni;

/// <summary>
/// Pod networking through CNI plugins, per the CNI spec: the first configuration list of the conf directory, each
/// plugin executed in order with CNI_COMMAND/CNI_CONTAINERID/CNI_NETNS/CNI_IFNAME/CNI_PATH and its configuration
/// on stdin, each result chained to the next as prevResult. ADD at sandbox creation, DEL (in reverse) at removal,
/// CHECK on request; the final result is cached per sandbox for DEL and CHECK and parsed for the pod's addresses.
/// </summary>
public sealed class CniNetwork : IPodNetwork
{
    public const string PodInterface = "eth0";

    private readonly CniOptions _options;
    private readonly NodeCommand _node;
    private readonly string _cacheDir;
    private CniConfList? _conf;

    public CniNetwork(CniOptions options)
    {
        _options = options;
        _node = new NodeCommand(options.NodeNetns);
        _cacheDir = Path.Combine(options.StateDir, "results");
        Directory.CreateDirectory(_cacheDir);
    }

    public async Task<PodNetworkStatus> SetUpAsync(PodNetworkRequest request, CancellationToken cancellationToken)
    {
        var conf = _conf ??= CniConfList.LoadFirst(_options.ConfDir);
        JsonNode? prev = null;
        try
        {
            foreach (var plugin in conf.Plugins)
            {
                prev = await InvokeAsync("ADD", conf, plugin, request, prev, cancellationToken) ?? prev;
            }
        }
        catch (IOException)
        {
            try
            {
                await TearDownAsync(request, CancellationToken.None);
            }
            catch (IOException)
            {
                // The ADD error is the one to report; DEL of a half-made network may fail too.
            }

            throw;
        }

        var result = prev as JsonObject ?? throw new IOException($"CNI network {conf.Name}: the last plugin returned no result");
        var cache = new JsonObject { ["conf"] = conf.SourcePath, ["netns"] = request.NetnsPath, ["result"] = result.DeepClone() };
        AtomicFile.Write(CachePath(request.SandboxId), System.Text.Encoding.UTF8.GetBytes(cache.ToJsonString()));
        return new PodNetworkStatus(ParseIps(result, conf.Name));
    }

    public async Task TearDownAsync(PodNetworkRequest request, CancellationToken cancellationToken)
    {
        var conf = _conf ??= CniConfList.LoadFirst(_options.ConfDir);
        var cached = ReadCache(request.SandboxId);
        var prev = cached?["result"];
        var netnsGone = !File.Exists(request.NetnsPath);
        var errors = new List<string>();
        foreach (var plugin in conf.Plugins.Reverse())
        {
            try
            {
                await InvokeAsync("DEL", conf, plugin, netnsGone ? request with { NetnsPath = string.Empty } : request, prev, cancellationToken);
            }
            catch (IOException ex)
            {
                errors.Add(ex.Message);
            }
        }

        if (errors.Count > 0)
        {
            throw new IOException(string.Join("; ", errors));
        }

        File.Delete(CachePath(request.SandboxId));
    }

    public async Task CheckAsync(PodNetworkRequest request, CancellationToken cancellationToken)
    {
        var conf = _conf ??= CniConfList.LoadFirst(_options.ConfDir);
        var prev = ReadCache(request.SandboxId)?["result"] ?? throw new IOException($"sandbox {Short(request.SandboxId)}: no cached CNI result to check against");
        foreach (var plugin in conf.Plugins)
        {
            await InvokeAsync("CHECK", conf, plugin, request, prev, cancellationToken);
        }
    }

    public async Task ReconcileAsync(IReadOnlyCollection<string> liveSandboxIds, CancellationToken cancellationToken)
    {
        var live = liveSandboxIds.ToHashSet(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(_cacheDir, "*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(file);
            if (!live.Contains(id))
            {
                var netns = (string?)ReadCache(id)?["netns"] ?? string.Empty;
                await TearDownAsync(new PodNetworkRequest { SandboxId = id, NetnsPath = netns, PodName = string.Empty, PodNamespace = string.Empty, PodUid = string.Empty }, cancellationToken);
            }
        }
    }

    /// <summary>The pod addresses in a CNI result (0.3.0 and later: <c>ips[].address</c> in CIDR form).</summary>
    public static IReadOnlyList<string> ParseIps(JsonObject result, string network)
    {
        if (result["ips"] is not JsonArray ips || ips.Count == 0)
        {
            throw new IOException($"CNI network {network}: the result has no \"ips\"");
        }

        return ips.Select(ip => (string?)ip?["address"] ?? throw new IOException($"CNI network {network}: an ips entry has no address"))
            .Select(a => a.Split('/')[0]).ToList();
    }

    private async Task<JsonNode?> InvokeAsync(string command, CniConfList conf, JsonObject plugin, PodNetworkRequest request, JsonNode? prev, CancellationToken cancellationToken)
    {
        var type = (string)plugin["type"]!;
        var binary = _options.BinDirs.Select(d => Path.Combine(d, type)).FirstOrDefault(File.Exists)
            ?? throw new IOException($"CNI plugin {type} ({conf.SourcePath}): not found in {string.Join(':', _options.BinDirs)}");
        var stdin = (JsonObject)plugin.DeepClone();
        stdin["name"] = conf.Name;
        stdin["cniVersion"] = conf.CniVersion;
        if (prev is not null)
        {
            stdin["prevResult"] = prev.DeepClone();
        }

        if (plugin["capabilities"]?["portMappings"]?.GetValue<bool>() == true)
        {
            var mappings = new JsonArray();
            foreach (var p in request.PortMappings.Where(p => p.HostPort > 0))
            {
                mappings.Add((JsonNode)new JsonObject
                {
                    ["hostPort"] = p.HostPort, ["containerPort"] = p.ContainerPort,
                    ["protocol"] = p.Protocol.ToLowerInvariant(), ["hostIP"] = p.HostIp ?? string.Empty,
                });
            }

            stdin["runtimeConfig"] = new JsonObject { ["portMappings"] = mappings };
        }

        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = request.SandboxId,
            ["CNI_NETNS"] = request.NetnsPath,
            ["CNI_IFNAME"] = PodInterface,
            ["CNI_PATH"] = string.Join(':', _options.BinDirs),
            ["CNI_ARGS"] = $"IgnoreUnknown=1;K8S_POD_NAMESPACE={request.PodNamespace};K8S_POD_NAME={request.PodName};K8S_POD_INFRA_CONTAINER_ID={request.SandboxId};K8S_POD_UID={request.PodUid}",
        };
        var result = await _node.RunAsync(binary, [], stdin.ToJsonString(), env, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new IOException($"CNI plugin {type} {command} for sandbox {Short(request.SandboxId)}: {PluginError(result)}");
        }

        if (command != "ADD" || string.IsNullOrWhiteSpace(result.Stdout))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(result.Stdout);
        }
        catch (JsonException ex)
        {
            throw new IOException($"CNI plugin {type} ADD: result is not JSON: {ex.Message}", ex);
        }
    }

    private static string PluginError(NodeCommand.Result result)
    {
        try
        {
            if (JsonNode.Parse(result.Stdout) is JsonObject error && error["msg"] is not null)
            {
                var details = (string?)error["details"];
                return $"{(string?)error["msg"]}{(string.IsNullOrEmpty(details) ? string.Empty : ": " + details)} (code {error["code"]})";
            }
        }
        catch (JsonException)
        {
            // Not the spec's error object; fall through to stderr.
        }

        return $"exit {result.ExitCode}: {(result.Stderr + result.Stdout).Trim()}";
    }

    private string CachePath(string sandboxId) => Path.Combine(_cacheDir, sandboxId + ".json");

    private JsonObject? ReadCache(string sandboxId)
    {
        var path = CachePath(sandboxId);
        return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;
    }

    private static string Short(string id) => id.Length > 12 ? id[..12] : id;
}
