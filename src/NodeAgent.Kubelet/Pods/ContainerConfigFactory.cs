using System.Security.Cryptography;
using System.Text;
using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>Turns a pod's container spec into the runtime's <see cref="ContainerConfig"/>, as kubelet's generateContainerConfig does.</summary>
public static class ContainerConfigFactory
{
    public const string HashLabel = "nodeagent.io/container-hash";
    public const string PodUidLabel = "io.kubernetes.pod.uid";
    public const string PodNameLabel = "io.kubernetes.pod.name";
    public const string PodNamespaceLabel = "io.kubernetes.pod.namespace";
    public const string ContainerNameLabel = "io.kubernetes.container.name";

    /// <summary>The pod's grace period, so a pod left without its spec (after a restart) is stopped as its spec asked.</summary>
    public const string GracePeriodLabel = "io.kubernetes.pod.terminationGracePeriod";

    /// <exception cref="ContainerConfigException">An env var that cannot be resolved (CreateContainerConfigError).</exception>
    public static ContainerConfig Create(V1Pod pod, V1Container container, uint attempt, PodEnvContext? context = null, IReadOnlyList<VolumeMount>? mounts = null)
    {
        var podSecurity = pod.Spec.SecurityContext;
        var security = container.SecurityContext;
        var caps = security?.Capabilities;
        if (security?.ProcMount == "Unmasked")
        {
            // Validation admits Unmasked only with hostUsers: false, and NodeAgent runs no pod in a user namespace.
            throw new ContainerConfigException(
                $"container {container.Name}: securityContext.procMount Unmasked needs a user namespace (hostUsers: false), which NodeAgent does not support");
        }

        var env = EnvResolver.Resolve(pod, container, context ?? PodEnvContext.Empty);
        // kubelet's ExpandContainerCommandAndArgs: $(VAR) in command and args from the container's environment.
        var lookup = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in env)
        {
            lookup[key] = value;
        }
        List<string>? Expand(IList<string>? items) => items?.Select(a => EnvExpansion.Expand(a, n => lookup.TryGetValue(n, out var v) ? v : null)).ToList();
        return new ContainerConfig
        {
            Name = container.Name,
            Attempt = attempt,
            Image = container.Image,
            Command = Expand(container.Command),
            Args = Expand(container.Args),
            WorkingDir = container.WorkingDir,
            Env = env,
            Mounts = mounts ?? [],
            LogPath = PodPaths.ContainerLog(container.Name, attempt),
            Resources = Resources(container),
            StopSignal = StopSignal(container),
            Labels = new Dictionary<string, string>
            {
                [PodUidLabel] = pod.Metadata.Uid,
                [PodNameLabel] = pod.Metadata.Name,
                [PodNamespaceLabel] = pod.Metadata.NamespaceProperty,
                [ContainerNameLabel] = container.Name,
                [HashLabel] = Hash(container),
                [GracePeriodLabel] = (pod.Spec.TerminationGracePeriodSeconds ?? 30).ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            Security = new ContainerSecurity
            {
                RunAsUser = security?.RunAsUser ?? podSecurity?.RunAsUser,
                RunAsGroup = security?.RunAsGroup ?? podSecurity?.RunAsGroup,
                RunAsNonRoot = (security?.RunAsNonRoot ?? podSecurity?.RunAsNonRoot) == true,
                // kubelet: fsGroup first, then supplementalGroups.
                SupplementalGroups = [.. (podSecurity?.FsGroup is { } fsGroup ? [fsGroup] : Array.Empty<long>()),
                    .. podSecurity?.SupplementalGroups?.Where(g => g.HasValue).Select(g => g!.Value) ?? []],
                Privileged = security?.Privileged ?? false,
                AddCapabilities = caps?.Add?.ToList() ?? [],
                DropCapabilities = caps?.Drop?.ToList() ?? [],
                NoNewPrivileges = security?.AllowPrivilegeEscalation == false,
                ReadOnlyRootFilesystem = security?.ReadOnlyRootFilesystem ?? false,
            },
        };
    }

    /// <summary>The container's <c>lifecycle.stopSignal</c> as a number (null: the image's STOPSIGNAL or SIGTERM);
    /// validated with the pod, so a name that is not a signal here is a configuration error.</summary>
    public static int? StopSignal(V1Container container) =>
        container.Lifecycle?.StopSignal is not { Length: > 0 } name ? null
            : Signals.Parse(name) ?? throw new ContainerConfigException($"container {container.Name}: lifecycle.stopSignal: not a signal");

    /// <summary>Cgroup limits from the container's requests and limits, with kubelet's conversions.</summary>
    public static LinuxContainerResources Resources(V1Container container)
    {
        var requests = container.Resources?.Requests;
        var limits = container.Resources?.Limits;
        long? MilliCpu(IDictionary<string, ResourceQuantity>? map, string field) => Saturated(container.Name, field, Get(map, "cpu"), 1000m);

        var cpuRequest = MilliCpu(requests, "requests.cpu") ?? MilliCpu(limits, "limits.cpu");
        var cpuLimit = MilliCpu(limits, "limits.cpu");
        var memory = Saturated(container.Name, "limits.memory", Get(limits, "memory"), 1m);
        return new LinuxContainerResources
        {
            CpuShares = KubepodsLayout.MilliCpuToShares(cpuRequest ?? 0),
            CpuQuotaMicros = KubepodsLayout.MilliCpuToQuota(cpuLimit ?? 0),
            MemoryLimitBytes = memory,
        };
    }

    /// <summary>
    /// A quantity times <paramref name="scale"/>, rounded up, saturated to long's range (a limit too large to hold is
    /// "unlimited" in effect); null when absent. A value that is not a quantity fails the container, naming it.
    /// </summary>
    private static ResourceQuantity? Get(IDictionary<string, ResourceQuantity>? map, string name) =>
        map is not null && map.TryGetValue(name, out var q) ? q : null;

    private static long? Saturated(string container, string field, ResourceQuantity? quantity, decimal scale)
    {
        if (quantity is null)
        {
            return null;
        }

        try
        {
            var value = decimal.Ceiling(quantity.ToDecimal() * scale);
            return value >= long.MaxValue ? long.MaxValue : value <= long.MinValue ? long.MinValue : (long)value;
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NullReferenceException or InvalidOperationException)
        {
            throw new ContainerConfigException($"container {container}: resources.{field}: not a valid quantity: {e.Message}");
        }
    }

    /// <summary>A hash of the container spec: a change means the running container must be replaced.</summary>
    public static string Hash(V1Container container) =>
        Convert.ToHexStringLower(SHA256.HashData(UnpooledJson.Write(container).WrittenSpan))[..16];
}
