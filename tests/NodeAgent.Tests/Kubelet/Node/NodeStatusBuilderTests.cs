using System.Net;
using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Api;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Node;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Node;

/// <summary>kubelet's node status setters: capacity, allocatable, conditions with kubelet's reasons, images, transitions.</summary>
public sealed class NodeStatusBuilderTests
{
    private static readonly DateTime T0 = new(2026, 12, 2, 3, 0, 0, DateTimeKind.Utc);

    private static readonly NodeMachineInfo Machine = new()
    {
        Cpus = 4,
        MemoryBytes = 8L << 30,
        HugePages = new Dictionary<long, long> { [2L << 20] = 64L << 20, [1L << 30] = 0 },
        MachineId = "m",
        SystemUuid = "u",
        BootId = "b",
        KernelVersion = "6.18.0",
        OsImage = "Debian GNU/Linux 12 (bookworm)",
        Architecture = "amd64",
    };

    private static NodeResourceReadings Readings(long memAvailable = 4L << 30, long fsAvailable = 50L << 30, long pids = 1000) => new()
    {
        MemoryAvailableBytes = memAvailable,
        NodeFsCapacityBytes = 100L << 30,
        NodeFsAvailableBytes = fsAvailable,
        PidMax = 4_194_304,
        PidsInUse = pids,
    };

    private static readonly NodeStatusSettings Settings = new() { RuntimeVersion = "nodeagent://0.5.0", KubeletVersion = "v1.32.0+nodeagent.0.5.0", MaxPods = 50 };

    private static readonly NodeIdentity Node = new("node1", [IPAddress.Parse("192.0.2.10")]);

    private static V1NodeStatus Build(NodeResourceReadings? readings = null, NodeStatusSettings? settings = null, string? notReady = null, IList<V1NodeCondition>? previous = null,
        IReadOnlyList<ImageInfo>? images = null, DateTime? now = null) =>
        NodeStatusBuilder.Build(Node, Machine, readings ?? Readings(), settings ?? Settings, images ?? [], notReady, previous, now ?? T0);

    [Fact]
    public void CapacityAndAllocatableSubtractReservationsEvictionThresholdsAndHugePages()
    {
        var status = Build(settings: Settings with
        {
            Reserved = NodeFlagValues.ReservedAmounts("test", new Dictionary<string, string> { ["cpu"] = "500m", ["memory"] = "1Gi" }, new Dictionary<string, string> { ["memory"] = "512Mi" }),
        });

        Assert.Equal("4", status.Capacity["cpu"].ToString());
        Assert.Equal(8L << 30, status.Capacity["memory"].ToInt64());
        Assert.Equal("50", status.Capacity["pods"].ToString());
        Assert.Equal(100L << 30, status.Capacity["ephemeral-storage"].ToInt64());
        Assert.Equal(64L << 20, status.Capacity["hugepages-2Mi"].ToInt64());
        Assert.Equal(0, status.Capacity["hugepages-1Gi"].ToInt64());
        Assert.Equal("3500m", status.Allocatable["cpu"].ToString());
        // 8Gi - 1Gi - 512Mi reserved - 100Mi hard eviction - 64Mi of huge pages.
        Assert.Equal((8L << 30) - (1L << 30) - (512L << 20) - (100L << 20) - (64L << 20), status.Allocatable["memory"].ToInt64());
        Assert.Equal((100L << 30) - (10L << 30), status.Allocatable["ephemeral-storage"].ToInt64());
        Assert.Equal("v1.32.0+nodeagent.0.5.0", status.NodeInfo.KubeletVersion);
        Assert.Equal("nodeagent://0.5.0", status.NodeInfo.ContainerRuntimeVersion);
        Assert.Equal(["InternalIP", "Hostname"], status.Addresses.Select(a => a.Type));
    }

    [Fact]
    public void ConditionsCarryKubeletsReasonsAndReadyIsLast()
    {
        var healthy = Build();
        Assert.Equal(
            ["MemoryPressure=False/KubeletHasSufficientMemory", "DiskPressure=False/KubeletHasNoDiskPressure", "PIDPressure=False/KubeletHasSufficientPID", "Ready=True/KubeletReady"],
            healthy.Conditions.Select(c => $"{c.Type}={c.Status}/{c.Reason}"));
        Assert.Equal("kubelet is posting ready status", healthy.Conditions[^1].Message);

        var pressed = Build(readings: Readings(memAvailable: 50L << 20, fsAvailable: 5L << 30), notReady: "PLEG is not healthy");
        Assert.Equal(
            ["MemoryPressure=True/KubeletHasInsufficientMemory", "DiskPressure=True/KubeletHasDiskPressure", "PIDPressure=False/KubeletHasSufficientPID", "Ready=False/KubeletNotReady"],
            pressed.Conditions.Select(c => $"{c.Type}={c.Status}/{c.Reason}"));
        Assert.Equal("PLEG is not healthy", pressed.Conditions[^1].Message);

        var pidLimited = Build(readings: Readings(pids: 4_194_000), settings: Settings with { EvictionHard = NodeFlagValues.Thresholds("test", new Dictionary<string, string> { ["pid.available"] = "1000" }) });
        Assert.Equal("True", pidLimited.Conditions.Single(c => c.Type == "PIDPressure").Status);
        Assert.Equal("False", pidLimited.Conditions.Single(c => c.Type == "MemoryPressure").Status);
    }

    [Fact]
    public void TransitionTimesStayWhileAConditionKeepsItsStatus()
    {
        var first = Build(now: T0);
        var later = Build(previous: first.Conditions, now: T0.AddMinutes(1));
        Assert.All(later.Conditions, c => Assert.Equal(T0, c.LastTransitionTime));
        Assert.All(later.Conditions, c => Assert.Equal(T0.AddMinutes(1), c.LastHeartbeatTime));

        var notReady = Build(previous: later.Conditions, notReady: "x", now: T0.AddMinutes(2));
        Assert.Equal(T0.AddMinutes(2), notReady.Conditions.Single(c => c.Type == "Ready").LastTransitionTime);
        Assert.Equal(T0, notReady.Conditions.Single(c => c.Type == "MemoryPressure").LastTransitionTime);
        Assert.Equal("NodeNotReady", NodeStatusBuilder.EventReason(notReady.Conditions[^1]));
    }

    [Fact]
    public void MissingCapacityMakesTheNodeNotReady()
    {
        var status = NodeStatusBuilder.Build(Node, Machine with { MemoryBytes = 0 }, Readings(), Settings, [], null, null, T0);
        var ready = status.Conditions.Single(c => c.Type == "Ready");
        Assert.Equal("False", ready.Status);
        Assert.Equal("Missing node capacity for resources: memory", ready.Message);
    }

    [Fact]
    public void AtMostFiftyImagesLargestFirstWithFiveNamesEach()
    {
        var images = Enumerable.Range(1, 60)
            .Select(i => new ImageInfo($"sha256:{i}", [.. Enumerable.Range(0, 7).Select(n => $"r/i{i}:t{n}")], [$"r/i{i}@sha256:{i}"], i * 1000L, null))
            .ToList();
        var status = Build(images: images);
        Assert.Equal(50, status.Images.Count);
        Assert.Equal(60_000, status.Images[0].SizeBytes);
        Assert.Equal(11_000, status.Images[^1].SizeBytes);
        Assert.Equal(5, status.Images[0].Names.Count);
        Assert.Equal("r/i60@sha256:60", status.Images[0].Names[0]);
    }

    [Fact]
    public void EvictionThresholdsParseQuantitiesAndPercentagesAndNameBadOnes()
    {
        Assert.Equal(100L << 20, EvictionThreshold.Parse("memory.available", "100Mi", out _)!.Of(1));
        Assert.Equal(15, EvictionThreshold.Parse("nodefs.available", "15%", out _)!.Of(100));
        Assert.Null(EvictionThreshold.Parse("memory.available", "150%", out var error));
        Assert.Contains("invalid percentage", error, StringComparison.Ordinal);
        Assert.Null(EvictionThreshold.Parse("cpu.available", "1", out error));
        Assert.Contains("unknown eviction signal", error, StringComparison.Ordinal);
        Assert.Equal(4, NodeFlagValues.Thresholds("x", new Dictionary<string, string>()).Count);
    }

    [Fact]
    public void NodeHostReadingsReadThisMachine()
    {
        var readings = new NodeHostReadings(Path.GetTempPath());
        var machine = readings.Machine();
        Assert.Equal(Environment.ProcessorCount, machine.Cpus);
        Assert.True(machine.MemoryBytes > 0);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(), machine.BootId);
        Assert.Equal(File.ReadAllText("/proc/sys/kernel/osrelease").Trim(), machine.KernelVersion);
        var now = readings.Read();
        Assert.True(now.MemoryAvailableBytes > 0 && now.MemoryAvailableBytes <= machine.MemoryBytes);
        Assert.True(now.NodeFsCapacityBytes >= now.NodeFsAvailableBytes && now.NodeFsAvailableBytes > 0);
        Assert.True(now.PidsInUse > 0 && now.PidMax > now.PidsInUse);
    }

    [Fact]
    public void StatusWriterMergeKeepsForeignConditionsAndUnchangedTransitionTimes()
    {
        var api = new V1PodStatus
        {
            Conditions =
            [
                new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = T0 },
                new V1PodCondition { Type = "example.com/gate", Status = "True", LastTransitionTime = T0 },
                new V1PodCondition { Type = "Ready", Status = "False", LastTransitionTime = T0 },
            ],
        };
        var ours = new V1PodStatus
        {
            Phase = "Running",
            Conditions =
            [
                new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = T0.AddMinutes(5) },
                new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = T0.AddMinutes(5) },
            ],
        };
        var merged = PodStatusWriter.Merge(api, ours);
        Assert.Equal(["PodScheduled", "Ready", "example.com/gate"], merged.Conditions.Select(c => c.Type));
        Assert.Equal(T0, merged.Conditions[0].LastTransitionTime);
        Assert.Equal(T0.AddMinutes(5), merged.Conditions[1].LastTransitionTime);
        Assert.Equal("Running", merged.Phase);
        Assert.Null(ours.Conditions.FirstOrDefault(c => c.Type == "example.com/gate"));
    }
}
