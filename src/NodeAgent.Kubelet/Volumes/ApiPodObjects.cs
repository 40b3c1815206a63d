using System.Text;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kubelet.Volumes;

/// <summary>
/// <see cref="IPodApiObjects"/> over the node's API connection, as kubelet's TTL-cache managers: an object read
/// within <see cref="Ttl"/> (1 minute, kubelet's default) is served from memory; after that it is read again. "Not
/// found" is never kept (a pod whose object appears later starts at its next retry). When the API server cannot answer, the last copy is served (pods keep restarting with what they had,
/// as kubelet's watch-based cache keeps its store) and only a name never read fails. The node reads only what its
/// pods reference, by name (a <c>get</c>), which is what the Node authorizer allows. Tokens come from the
/// TokenRequest API bound to the pod (<see cref="ServiceAccountTokenCache"/>).
/// </summary>
public sealed partial class ApiPodObjects : IPodApiObjects
{
    private static readonly ApiResource<V1ServiceAccount, V1ServiceAccountList> ServiceAccounts = new("", "v1", "serviceaccounts", "ServiceAccount", true);

    private readonly ResourceClient<V1ConfigMap, V1ConfigMapList> _configMaps;
    private readonly ResourceClient<V1Secret, V1SecretList> _secrets;
    private readonly ResourceClient<V1Service, V1ServiceList> _services;
    private readonly KubeApiConnection _connection;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Dictionary<(string Kind, string Ns, string Name), Cached> _cache = [];
    private readonly ServiceAccountTokenCache _tokens;

    public ApiPodObjects(KubeApiConnection connection, TimeProvider time, ILogger<ApiPodObjects> logger)
    {
        _connection = connection;
        _time = time;
        _logger = logger;
        _configMaps = new(connection, KubeResources.ConfigMaps);
        _secrets = new(connection, KubeResources.Secrets);
        _services = new(connection, KubeResources.Services);
        _tokens = new ServiceAccountTokenCache(RequestTokenAsync, time);
    }

    /// <summary>How long a read object is served from memory.</summary>
    public TimeSpan Ttl { get; init; } = TimeSpan.FromMinutes(1);

    public bool IsAvailable => true;

    public async Task<V1ConfigMap?> GetConfigMapAsync(string ns, string name, CancellationToken cancellationToken) =>
        (V1ConfigMap?)await GetAsync("configmap", ns, name, async ct => await _configMaps.GetAsync(ns, name, ct), cancellationToken);

    public async Task<V1Secret?> GetSecretAsync(string ns, string name, CancellationToken cancellationToken) =>
        (V1Secret?)await GetAsync("secret", ns, name, async ct => await _secrets.GetAsync(ns, name, ct), cancellationToken);

    public async Task<IReadOnlyList<V1Service>> GetServicesAsync(string ns, CancellationToken cancellationToken)
    {
        var list = (V1ServiceList?)await GetAsync("services", ns, "", async ct => await _services.ListAsync(ns, null, ct), cancellationToken);
        var result = new List<V1Service>(list?.Items ?? []);
        if (ns != "default")
        {
            var master = (V1ServiceList?)await GetAsync("services", "default", "", async ct => await _services.ListAsync("default", null, ct), cancellationToken);
            result.AddRange((master?.Items ?? []).Where(s => s.Metadata?.Name == "kubernetes"));
        }

        return result;
    }

    public Task<ServiceAccountToken> GetServiceAccountTokenAsync(V1Pod pod, string? audience, long expirationSeconds, CancellationToken cancellationToken) =>
        _tokens.GetAsync(pod, audience, expirationSeconds, cancellationToken);

    public void ForgetPod(string podUid) => _tokens.ForgetPod(podUid);

    private async Task<object?> GetAsync(string kind, string ns, string name, Func<CancellationToken, Task<object>> read, CancellationToken cancellationToken)
    {
        var key = (kind, ns, name);
        Cached? cached;
        lock (_cache)
        {
            _cache.TryGetValue(key, out cached);
        }

        var now = _time.GetUtcNow();
        if (cached is not null && now - cached.ReadAt < Ttl)
        {
            return cached.Value;
        }

        object? value;
        try
        {
            value = await read(cancellationToken);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            value = null;
        }
        catch (Exception e) when (e is ApiException or HttpRequestException or IOException or ArgumentException or System.Text.Json.JsonException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var what = name.Length == 0 ? $"{kind} in namespace {ns}" : $"{kind} \"{name}\" in namespace {ns}";
            if (cached is not null)
            {
                LogServedStale(what, e.Message);
                return cached.Value;
            }

            throw new ApiObjectsException($"cannot read {what}: {e.Message}", e);
        }

        lock (_cache)
        {
            // "Not found" is not kept: an object created just after the pod that names it is seen at the next retry.
            if (value is null)
            {
                _cache.Remove(key);
                return null;
            }

            _cache[key] = new Cached(value, now);
            // Names no pod has asked for in a while (their pods are gone) are dropped, so the cache stays the size
            // of what the node's pods reference.
            foreach (var old in _cache.Where(kv => now - kv.Value.ReadAt > 5 * Ttl).Select(kv => kv.Key).ToList())
            {
                _cache.Remove(old);
            }
        }

        return value;
    }

    private async Task<Authenticationv1TokenRequest> RequestTokenAsync(string ns, string serviceAccount, Authenticationv1TokenRequest request, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(KubernetesJson.Serialize(request));
        return await _connection.SendAsync<Authenticationv1TokenRequest>(HttpMethod.Post, ServiceAccounts.ObjectPath(ns, serviceAccount, "token"), body, "application/json", cancellationToken);
    }

    private sealed record Cached(object? Value, DateTimeOffset ReadAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What}: the API server did not answer ({Error}); using the copy read before")]
    private partial void LogServedStale(string what, string error);
}
