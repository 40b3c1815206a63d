using System.Globalization;
using System.Text.Json;
using k8s.Models;
using YamlDotNet.Core;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// The node's settings, named and defaulted as kubelet's <c>KubeletConfiguration</c>
/// (<c>kubelet.config.k8s.io/v1beta1</c>) names them. The <c>--config</c> file sets them; flags given on the command
/// line win over the file, as with kubelet. Only the fields NodeAgent acts on are here.
/// </summary>
public sealed class KubeletConfiguration
{
    public const string ApiVersion = "kubelet.config.k8s.io/v1beta1";

    public string StaticPodPath { get; set; } = "/etc/agent/manifests";

    public string? StaticPodUrl { get; set; }

    public Dictionary<string, List<string>> StaticPodUrlHeader { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan FileCheckFrequency { get; set; } = TimeSpan.FromSeconds(20);

    public TimeSpan HttpCheckFrequency { get; set; } = TimeSpan.FromSeconds(20);

    public int MaxPods { get; set; } = 110;

    /// <summary>Unsafe sysctls (names, or patterns ending in <c>*</c>) pods may set besides kubelet's safe ones.</summary>
    public List<string> AllowedUnsafeSysctls { get; set; } = [];

    public int ReadOnlyPort { get; set; } = 10255;

    public string Address { get; set; } = "0.0.0.0";

    public List<string> ClusterDns { get; set; } = [];

    public string ClusterDomain { get; set; } = "cluster.local";

    public string ResolvConf { get; set; } = "/etc/resolv.conf";

    public string? PodCidr { get; set; }

    public int ImageGcHighThresholdPercent { get; set; } = 85;

    public int ImageGcLowThresholdPercent { get; set; } = 80;

    public string? PodLogsDir { get; set; }

    /// <summary>How often API-backed volumes are written again and objects read anew (kubelet's sync period).</summary>
    public TimeSpan SyncFrequency { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often node status is computed (patched only when changed or every 5 minutes).</summary>
    public TimeSpan NodeStatusUpdateFrequency { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Register the Node with the API server (else the Node must exist).</summary>
    public bool RegisterNode { get; set; } = true;

    /// <summary>kubelet's localStorageCapacityIsolation: emptyDir sizeLimit and ephemeral-storage limits enforced by
    /// evicting the pod (the eviction manager).</summary>
    public bool LocalStorageCapacityIsolation { get; set; } = true;
    /// <summary><c>seccompDefault</c>: RuntimeDefault instead of Unconfined for containers that set no seccompProfile.</summary>
    public bool SeccompDefault { get; set; }

    /// <summary>Taints the Node is registered with.</summary>
    public List<V1Taint> RegisterWithTaints { get; set; } = [];

    public int KubeApiQps { get; set; } = 50;

    public int KubeApiBurst { get; set; } = 100;

    /// <summary>Resources reserved for Kubernetes system daemons (cpu, memory, ephemeral-storage, pid).</summary>
    public Dictionary<string, string> KubeReserved { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Resources reserved for the operating system's daemons.</summary>
    public Dictionary<string, string> SystemReserved { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Hard eviction thresholds (signal → quantity or percentage); kubelet's defaults when empty.</summary>
    public Dictionary<string, string> EvictionHard { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The authenticated kubelet API's HTTPS port (<c>port</c>, 10250).</summary>
    public int Port { get; set; } = 10250;

    /// <summary>The healthz port (<c>healthzPort</c>, 10248; 0 disables it).</summary>
    public int HealthzPort { get; set; } = 10248;

    public string HealthzBindAddress { get; set; } = "127.0.0.1";

    /// <summary>The serving certificate (PEM); without it a self-signed one is made under the root dir.</summary>
    public string? TlsCertFile { get; set; }

    public string? TlsPrivateKeyFile { get; set; }

    /// <summary><c>authentication.x509.clientCAFile</c>: client certificates signed by these CAs authenticate.</summary>
    public string? AuthenticationX509ClientCaFile { get; set; }

    /// <summary><c>authentication.webhook.enabled</c>: bearer tokens through TokenReview.</summary>
    public bool AuthenticationWebhookEnabled { get; set; } = true;

    public TimeSpan AuthenticationWebhookCacheTtl { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary><c>authentication.anonymous.enabled</c>: requests without credentials are system:anonymous.</summary>
    public bool AuthenticationAnonymousEnabled { get; set; }

    /// <summary><c>authorization.mode</c>: <c>Webhook</c> (SubjectAccessReview) or <c>AlwaysAllow</c>.</summary>
    public string AuthorizationMode { get; set; } = "Webhook";

    public TimeSpan AuthorizationWebhookCacheAuthorizedTtl { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan AuthorizationWebhookCacheUnauthorizedTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Reads a KubeletConfiguration file (YAML or JSON). Wrong types and bad values are errors naming the file, line
    /// and field; unknown fields are returned as warnings (kubelet's lenient decoding logs them too).
    /// </summary>
    /// <exception cref="KubeletConfigurationException">The file cannot be read or holds invalid values.</exception>
    public static KubeletConfiguration Load(string path, out IReadOnlyList<string> warnings)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubeletConfigurationException($"{path}: cannot read the kubelet config file: {e.Message}", e);
        }

        return Parse(path, text, out warnings);
    }

    public static KubeletConfiguration Parse(string origin, string text, out IReadOnlyList<string> warnings)
    {
        byte[] json;
        IReadOnlyDictionary<string, Mark> positions;
        try
        {
            (json, positions) = YamlJson.Convert(text);
        }
        catch (YamlException e)
        {
            throw new KubeletConfigurationException($"{origin}:{e.Start.Line}:{e.Start.Column}: malformed YAML: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's answer to some truncated input (an unclosed flow mapping).
            throw new KubeletConfigurationException($"{origin}: malformed YAML: unexpected end of the text or of a flow collection", e);
        }

        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new KubeletConfigurationException($"{origin}: expected a KubeletConfiguration object");
        }

        var reader = new FieldReader(origin, positions);
        var kind = reader.String(root, "kind");
        var apiVersion = reader.String(root, "apiVersion");
        if (kind != "KubeletConfiguration")
        {
            throw new KubeletConfigurationException($"{origin}: kind: expected \"KubeletConfiguration\", found \"{kind}\"");
        }

        if (apiVersion != ApiVersion)
        {
            throw new KubeletConfigurationException($"{origin}: apiVersion: expected \"{ApiVersion}\", found \"{apiVersion}\"");
        }

        var c = new KubeletConfiguration();
        var unknown = new List<string>();
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "kind" or "apiVersion":
                    break;
                case "staticPodPath": c.StaticPodPath = reader.String(root, p.Name) ?? c.StaticPodPath; break;
                case "staticPodURL": c.StaticPodUrl = reader.String(root, p.Name); break;
                case "staticPodURLHeader": c.StaticPodUrlHeader = reader.StringLists(root, p.Name); break;
                case "fileCheckFrequency": c.FileCheckFrequency = reader.Duration(root, p.Name); break;
                case "httpCheckFrequency": c.HttpCheckFrequency = reader.Duration(root, p.Name); break;
                case "maxPods": c.MaxPods = reader.Int(root, p.Name, 1, 100_000); break;
                case "allowedUnsafeSysctls": c.AllowedUnsafeSysctls = reader.Strings(root, p.Name); break;
                case "readOnlyPort": c.ReadOnlyPort = reader.Int(root, p.Name, 0, 65535); break;
                case "address": c.Address = reader.String(root, p.Name) ?? c.Address; break;
                case "clusterDNS": c.ClusterDns = reader.Strings(root, p.Name); break;
                case "clusterDomain": c.ClusterDomain = reader.String(root, p.Name) ?? c.ClusterDomain; break;
                case "resolvConf": c.ResolvConf = reader.String(root, p.Name) ?? c.ResolvConf; break;
                case "podCIDR": c.PodCidr = reader.String(root, p.Name); break;
                case "imageGCHighThresholdPercent": c.ImageGcHighThresholdPercent = reader.Int(root, p.Name, 0, 100); break;
                case "imageGCLowThresholdPercent": c.ImageGcLowThresholdPercent = reader.Int(root, p.Name, 0, 100); break;
                case "podLogsDir": c.PodLogsDir = reader.String(root, p.Name); break;
                case "syncFrequency": c.SyncFrequency = reader.Duration(root, p.Name); break;
                case "nodeStatusUpdateFrequency": c.NodeStatusUpdateFrequency = reader.Duration(root, p.Name); break;
                case "registerNode": c.RegisterNode = reader.Bool(root, p.Name); break;
                case "localStorageCapacityIsolation": c.LocalStorageCapacityIsolation = reader.Bool(root, p.Name); break;
                case "seccompDefault": c.SeccompDefault = reader.Bool(root, p.Name); break;
                case "registerWithTaints": c.RegisterWithTaints = reader.Taints(root, p.Name); break;
                case "kubeAPIQPS": c.KubeApiQps = reader.Int(root, p.Name, 1, 100_000); break;
                case "kubeAPIBurst": c.KubeApiBurst = reader.Int(root, p.Name, 1, 100_000); break;
                case "kubeReserved": c.KubeReserved = reader.StringMap(root, p.Name); break;
                case "systemReserved": c.SystemReserved = reader.StringMap(root, p.Name); break;
                case "evictionHard": c.EvictionHard = reader.StringMap(root, p.Name); break;
                case "port": c.Port = reader.Int(root, p.Name, 1, 65535); break;
                case "healthzPort": c.HealthzPort = reader.Int(root, p.Name, 0, 65535); break;
                case "healthzBindAddress": c.HealthzBindAddress = reader.String(root, p.Name) ?? c.HealthzBindAddress; break;
                case "tlsCertFile": c.TlsCertFile = reader.String(root, p.Name); break;
                case "tlsPrivateKeyFile": c.TlsPrivateKeyFile = reader.String(root, p.Name); break;
                case "authentication": ReadAuthentication(c, reader.Nested(root, p.Name), unknown); break;
                case "authorization": ReadAuthorization(c, reader.Nested(root, p.Name), unknown); break;
                default: unknown.Add(reader.Where(p.Name) + $"unknown field \"{p.Name}\" (ignored)"); break;
            }
        }

        if (c.ImageGcLowThresholdPercent >= c.ImageGcHighThresholdPercent && c.ImageGcHighThresholdPercent != 0)
        {
            throw new KubeletConfigurationException(
                $"{origin}: imageGCLowThresholdPercent ({c.ImageGcLowThresholdPercent}) must be less than imageGCHighThresholdPercent ({c.ImageGcHighThresholdPercent})");
        }

        warnings = unknown;
        return c;
    }

    private static void ReadAuthentication(KubeletConfiguration c, (FieldReader Reader, JsonElement Element) auth, List<string> unknown)
    {
        var (reader, element) = auth;
        foreach (var p in element.EnumerateObject())
        {
            switch (p.Name)
            {
                case "x509":
                    var (x509, x) = reader.Nested(element, p.Name);
                    ReadFields(x509, x, unknown, (name, r, e) => name == "clientCAFile" && Set(() => c.AuthenticationX509ClientCaFile = r.String(e, name)));
                    break;
                case "webhook":
                    var (webhook, w) = reader.Nested(element, p.Name);
                    ReadFields(webhook, w, unknown, (name, r, e) => name switch
                    {
                        "enabled" => Set(() => c.AuthenticationWebhookEnabled = r.Bool(e, name)),
                        "cacheTTL" => Set(() => c.AuthenticationWebhookCacheTtl = r.Duration(e, name)),
                        _ => false,
                    });
                    break;
                case "anonymous":
                    var (anonymous, a) = reader.Nested(element, p.Name);
                    ReadFields(anonymous, a, unknown, (name, r, e) => name == "enabled" && Set(() => c.AuthenticationAnonymousEnabled = r.Bool(e, name)));
                    break;
                default: unknown.Add(reader.Where(p.Name) + $"unknown field \"{reader.Name(p.Name)}\" (ignored)"); break;
            }
        }
    }

    private static void ReadAuthorization(KubeletConfiguration c, (FieldReader Reader, JsonElement Element) authz, List<string> unknown)
    {
        var (reader, element) = authz;
        foreach (var p in element.EnumerateObject())
        {
            switch (p.Name)
            {
                case "mode":
                    c.AuthorizationMode = reader.String(element, p.Name) ?? c.AuthorizationMode;
                    break;
                case "webhook":
                    var (webhook, w) = reader.Nested(element, p.Name);
                    ReadFields(webhook, w, unknown, (name, r, e) => name switch
                    {
                        "cacheAuthorizedTTL" => Set(() => c.AuthorizationWebhookCacheAuthorizedTtl = r.Duration(e, name)),
                        "cacheUnauthorizedTTL" => Set(() => c.AuthorizationWebhookCacheUnauthorizedTtl = r.Duration(e, name)),
                        _ => false,
                    });
                    break;
                default: unknown.Add(reader.Where(p.Name) + $"unknown field \"{reader.Name(p.Name)}\" (ignored)"); break;
            }
        }
    }

    private static void ReadFields(FieldReader reader, JsonElement element, List<string> unknown, Func<string, FieldReader, JsonElement, bool> read)
    {
        foreach (var p in element.EnumerateObject())
        {
            if (!read(p.Name, reader, element))
            {
                unknown.Add(reader.Where(p.Name) + $"unknown field \"{reader.Name(p.Name)}\" (ignored)");
            }
        }
    }

    private static bool Set(Action set)
    {
        set();
        return true;
    }

    /// <summary>Parses a Go duration (<c>20s</c>, <c>1m30s</c>, <c>500ms</c>, <c>1h</c>).</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        var s = text.AsSpan().Trim();
        if (s.Length == 0)
        {
            return false;
        }

        if (s is "0")
        {
            return true;
        }

        double total = 0;
        while (s.Length > 0)
        {
            var n = 0;
            while (n < s.Length && (char.IsAsciiDigit(s[n]) || s[n] == '.'))
            {
                n++;
            }

            if (n == 0 || !double.TryParse(s[..n], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            s = s[n..];
            var u = 0;
            while (u < s.Length && char.IsAsciiLetter(s[u]) || (u < s.Length && s[u] == 'µ'))
            {
                u++;
            }

            double? unit = s[..u] switch
            {
                "ns" => 1e-6,
                "us" or "µs" => 1e-3,
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => null,
            };
            if (unit is null)
            {
                return false;
            }

            total += number * unit.Value;
            s = s[u..];
        }

        // TimeSpan.FromMilliseconds throws past about 29,000 years; such a duration is refused, not thrown.
        if (!double.IsFinite(total) || total >= TimeSpan.MaxValue.TotalMilliseconds)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(total);
        return true;
    }

    private sealed class FieldReader(string origin, IReadOnlyDictionary<string, Mark> positions, string prefix = "")
    {
        /// <summary>The field's full name (<c>authentication.webhook.cacheTTL</c> inside a nested object).</summary>
        public string Name(string field) => prefix + field;

        public string Where(string field) =>
            positions.TryGetValue("$." + prefix + field, out var m) ? $"{origin}:{m.Line}:{m.Column}: {prefix}{field}: " : $"{origin}: {prefix}{field}: ";

        /// <summary>A nested object's reader (field names prefixed with its path) and the object itself.</summary>
        public (FieldReader Reader, JsonElement Element) Nested(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(field, $"expected an object, found {Show(v)}");
            }

            return (new FieldReader(origin, positions, prefix + field + "."), v);
        }

        public string? String(JsonElement root, string field) => root.TryGetProperty(field, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Null => null,
            _ => throw Invalid(field, $"expected a string, found {v.ValueKind.ToString().ToLowerInvariant()}"),
        } : null;

        public int Int(JsonElement root, string field, int min, int max)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i))
            {
                throw Invalid(field, $"expected an integer, found {Show(v)}");
            }

            if (i < min || i > max)
            {
                throw Invalid(field, $"{i} is out of range [{min}, {max}]");
            }

            return i;
        }

        public TimeSpan Duration(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.String || !TryParseDuration(v.GetString()!, out var d))
            {
                throw Invalid(field, $"expected a duration such as \"20s\", found {Show(v)}");
            }

            return d;
        }

        public List<string> Strings(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
            {
                throw Invalid(field, $"expected a list of strings, found {Show(v)}");
            }

            return v.EnumerateArray().Select(e => e.GetString()!).ToList();
        }

        public Dictionary<string, List<string>> StringLists(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(field, $"expected a map of header names to lists of values, found {Show(v)}");
            }

            var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            foreach (var p in v.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Array || p.Value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                {
                    throw Invalid($"{field}.{p.Name}", $"expected a list of strings, found {Show(p.Value)}");
                }

                result[p.Name] = p.Value.EnumerateArray().Select(e => e.GetString()!).ToList();
            }

            return result;
        }

        public bool Bool(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            return v.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Invalid(field, $"expected true or false, found {Show(v)}"),
            };
        }

        public Dictionary<string, string> StringMap(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.Object || v.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
            {
                throw Invalid(field, $"expected a map of strings, found {Show(v)}");
            }

            return v.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal);
        }

        public List<V1Taint> Taints(JsonElement root, string field)
        {
            var v = root.GetProperty(field);
            if (v.ValueKind != JsonValueKind.Array)
            {
                throw Invalid(field, $"expected a list of taints, found {Show(v)}");
            }

            var taints = new List<V1Taint>();
            var i = 0;
            foreach (var t in v.EnumerateArray())
            {
                string? Get(string name) => t.ValueKind == JsonValueKind.Object && t.TryGetProperty(name, out var x) && x.ValueKind == JsonValueKind.String ? x.GetString() : null;
                var taint = new V1Taint { Key = Get("key"), Value = Get("value"), Effect = Get("effect") };
                if (NodeFlagValues.TaintError(taint) is { } error)
                {
                    throw Invalid($"{field}[{i}]", error);
                }

                taints.Add(taint);
                i++;
            }

            return taints;
        }

        private static string Show(JsonElement v) => v.ValueKind == JsonValueKind.String ? $"\"{v.GetString()}\"" : v.GetRawText();

        private KubeletConfigurationException Invalid(string field, string why) => new(Where(field) + why);
    }
}

/// <summary>The kubelet config file is unreadable or invalid; the message names the file, line, field and reason.</summary>
public sealed class KubeletConfigurationException(string message, Exception? inner = null) : Exception(message, inner);
