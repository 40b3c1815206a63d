using System.Globalization;
using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// kubelet's node status setters (<c>pkg/kubelet/nodestatus/setters.go</c>) as one pure function of the host's
/// readings: addresses, capacity and allocatable, nodeInfo, images, daemon endpoints and the four conditions with
/// kubelet's reasons and messages. Transition times are kept from the previous status while a condition's status
/// stays; heartbeats are the time of this computation.
/// </summary>
public static class NodeStatusBuilder
{
    /// <summary>kubelet's <c>nodeStatusMaxImages</c>.</summary>
    public const int MaxImages = 50;

    /// <summary>kubelet's limit of names per image in node status.</summary>
    public const int MaxNamesPerImage = 5;

    public static V1NodeStatus Build(NodeIdentity node, NodeMachineInfo machine, NodeResourceReadings readings, NodeStatusSettings settings,
        IReadOnlyList<ImageInfo> images, string? notReadyMessage, IList<V1NodeCondition>? previous, DateTime now)
    {
        var capacity = Capacity(machine, readings, settings);
        return new V1NodeStatus
        {
            Addresses = Addresses(node),
            Capacity = capacity.ToDictionary(kv => kv.Key, kv => kv.Value.Quantity),
            Allocatable = Allocatable(capacity, machine, settings),
            NodeInfo = new V1NodeSystemInfo
            {
                MachineID = machine.MachineId,
                SystemUUID = machine.SystemUuid,
                BootID = machine.BootId,
                KernelVersion = machine.KernelVersion,
                OsImage = machine.OsImage,
                ContainerRuntimeVersion = settings.RuntimeVersion,
                KubeletVersion = settings.KubeletVersion,
                KubeProxyVersion = "",
                OperatingSystem = "linux",
                Architecture = machine.Architecture,
            },
            DaemonEndpoints = new V1NodeDaemonEndpoints { KubeletEndpoint = new V1DaemonEndpoint { Port = settings.KubeletPort } },
            Images = Images(images),
            Conditions = Conditions(node.Name, machine, readings, settings, notReadyMessage, previous, now),
        };
    }

    /// <summary>The conditions alone (for tests and for the node's events).</summary>
    public static List<V1NodeCondition> Conditions(string nodeName, NodeMachineInfo machine, NodeResourceReadings readings, NodeStatusSettings settings,
        string? notReadyMessage, IList<V1NodeCondition>? previous, DateTime now)
    {
        var memory = Threshold(settings, EvictionThreshold.MemoryAvailable);
        var nodefs = Threshold(settings, EvictionThreshold.NodeFsAvailable);
        var pids = Threshold(settings, EvictionThreshold.PidAvailable);
        var memoryPressure = memory is not null && readings.MemoryAvailableBytes < memory.Of(machine.MemoryBytes);
        var diskPressure = nodefs is not null && readings.NodeFsCapacityBytes > 0 && readings.NodeFsAvailableBytes < nodefs.Of(readings.NodeFsCapacityBytes);
        var pidPressure = pids is not null && readings.PidMax > 0 && readings.PidMax - readings.PidsInUse < pids.Of(readings.PidMax);
        if (notReadyMessage is null && Missing(machine, readings) is { } missing)
        {
            notReadyMessage = missing;
        }

        return
        [
            Condition(previous, "MemoryPressure", memoryPressure, now,
                memoryPressure ? ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available") : ("KubeletHasSufficientMemory", "kubelet has sufficient memory available")),
            Condition(previous, "DiskPressure", diskPressure, now,
                diskPressure ? ("KubeletHasDiskPressure", "kubelet has disk pressure") : ("KubeletHasNoDiskPressure", "kubelet has no disk pressure")),
            Condition(previous, "PIDPressure", pidPressure, now,
                pidPressure ? ("KubeletHasInsufficientPID", "kubelet has insufficient PID available") : ("KubeletHasSufficientPID", "kubelet has sufficient PID available")),
            // Ready is kept last, as kubelet keeps it.
            Condition(previous, "Ready", notReadyMessage is null, now,
                notReadyMessage is null ? ("KubeletReady", "kubelet is posting ready status") : ("KubeletNotReady", notReadyMessage)),
        ];
    }

    /// <summary>The event kubelet records when a condition is first reported or changes (NodeHasSufficientMemory, NodeReady…).</summary>
    public static string EventReason(V1NodeCondition c) => (c.Type, c.Status == "True") switch
    {
        ("MemoryPressure", true) => "NodeHasInsufficientMemory",
        ("MemoryPressure", false) => "NodeHasSufficientMemory",
        ("DiskPressure", true) => "NodeHasDiskPressure",
        ("DiskPressure", false) => "NodeHasNoDiskPressure",
        ("PIDPressure", true) => "NodeHasInsufficientPID",
        ("PIDPressure", false) => "NodeHasSufficientPID",
        ("Ready", true) => "NodeReady",
        _ => "NodeNotReady",
    };

    private static string? Missing(NodeMachineInfo machine, NodeResourceReadings readings)
    {
        var missing = new List<string>();
        if (machine.Cpus <= 0)
        {
            missing.Add("cpu");
        }

        if (machine.MemoryBytes <= 0)
        {
            missing.Add("memory");
        }

        if (readings.NodeFsCapacityBytes <= 0)
        {
            missing.Add("ephemeral-storage");
        }

        return missing.Count == 0 ? null : "Missing node capacity for resources: " + string.Join(", ", missing);
    }

    private static EvictionThreshold? Threshold(NodeStatusSettings settings, string signal) =>
        settings.EvictionHard.FirstOrDefault(t => t.Signal == signal);

    private static V1NodeCondition Condition(IList<V1NodeCondition>? previous, string type, bool status, DateTime now, (string Reason, string Message) why)
    {
        var text = status ? "True" : "False";
        var before = previous?.FirstOrDefault(c => c.Type == type);
        return new V1NodeCondition
        {
            Type = type,
            Status = text,
            Reason = why.Reason,
            Message = why.Message,
            LastHeartbeatTime = now,
            LastTransitionTime = before is not null && before.Status == text && before.LastTransitionTime is { } t ? t : now,
        };
    }

    private static List<V1NodeAddress> Addresses(NodeIdentity node)
    {
        var list = node.Addresses.Select(a => new V1NodeAddress { Type = "InternalIP", Address = a.ToString() }).ToList();
        list.Add(new V1NodeAddress { Type = "Hostname", Address = node.Name });
        return list;
    }

    private readonly record struct Amount(long Value, ResourceQuantity Quantity);

    private static Dictionary<string, Amount> Capacity(NodeMachineInfo machine, NodeResourceReadings readings, NodeStatusSettings settings)
    {
        var capacity = new Dictionary<string, Amount>(StringComparer.Ordinal)
        {
            ["cpu"] = new(machine.Cpus * 1000L, new ResourceQuantity(machine.Cpus.ToString(CultureInfo.InvariantCulture))),
            ["memory"] = Bytes(machine.MemoryBytes),
            ["pods"] = new(settings.MaxPods, new ResourceQuantity(settings.MaxPods.ToString(CultureInfo.InvariantCulture))),
            ["ephemeral-storage"] = Bytes(readings.NodeFsCapacityBytes),
        };
        foreach (var (size, total) in machine.HugePages)
        {
            capacity[HugePageName(size)] = Bytes(total);
        }

        return capacity;
    }

    private static Dictionary<string, ResourceQuantity> Allocatable(Dictionary<string, Amount> capacity, NodeMachineInfo machine, NodeStatusSettings settings)
    {
        var allocatable = new Dictionary<string, ResourceQuantity>(StringComparer.Ordinal);
        var hugePages = machine.HugePages.Values.Sum();
        foreach (var (name, amount) in capacity)
        {
            var value = amount.Value - settings.Reserved.GetValueOrDefault(name);
            switch (name)
            {
                case "memory":
                    value -= (Threshold(settings, EvictionThreshold.MemoryAvailable)?.Of(amount.Value) ?? 0) + hugePages;
                    break;
                case "ephemeral-storage":
                    value -= Threshold(settings, EvictionThreshold.NodeFsAvailable)?.Of(amount.Value) ?? 0;
                    break;
            }

            value = Math.Max(0, value);
            allocatable[name] = name switch
            {
                "cpu" => new ResourceQuantity(value % 1000 == 0 ? (value / 1000).ToString(CultureInfo.InvariantCulture) : value.ToString(CultureInfo.InvariantCulture) + "m"),
                "pods" => new ResourceQuantity(value.ToString(CultureInfo.InvariantCulture)),
                _ => Bytes(value).Quantity,
            };
        }

        return allocatable;
    }

    private static Amount Bytes(long bytes) =>
        new(bytes, new ResourceQuantity(bytes % 1024 == 0 && bytes > 0 ? (bytes / 1024).ToString(CultureInfo.InvariantCulture) + "Ki" : bytes.ToString(CultureInfo.InvariantCulture)));

    private static string HugePageName(long size) => size switch
    {
        >= 1L << 30 when size % (1L << 30) == 0 => $"hugepages-{size >> 30}Gi",
        >= 1L << 20 when size % (1L << 20) == 0 => $"hugepages-{size >> 20}Mi",
        _ => $"hugepages-{size >> 10}Ki",
    };

    private static List<V1ContainerImage> Images(IReadOnlyList<ImageInfo> images) =>
        images.OrderByDescending(i => i.Size)
            .Take(MaxImages)
            .Select(i => new V1ContainerImage
            {
                Names = [.. i.RepoDigests.Concat(i.RepoTags).Take(MaxNamesPerImage)],
                SizeBytes = i.Size,
            })
            .ToList();
}
