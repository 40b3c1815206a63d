using System.Text.Json.Serialization;

namespace NodeAgent.Kubelet.Stats.Summary;

/// <summary>kubelet's stats/v1alpha1 Summary (k8s.io/kubelet/pkg/apis/stats/v1alpha1), JSON names as its tags; only the
/// fields NodeAgent fills are declared, and absent ones are left out as kubelet's omitempty does.</summary>
public sealed record StatsSummary(
    [property: JsonPropertyName("node")] NodeStatsJson Node,
    [property: JsonPropertyName("pods")] IReadOnlyList<PodStatsJson> Pods);
