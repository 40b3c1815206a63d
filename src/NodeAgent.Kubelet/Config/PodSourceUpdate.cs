using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// A full snapshot of the pods a source wants on the node (kubelet's SET operation): pods absent from the
/// snapshot are removed. Pods are already normalised (<see cref="StaticPodNormalizer"/>) and validated.
/// </summary>
/// <param name="Source">The source name (<see cref="PodSourceNames"/>).</param>
/// <param name="Pods">Every pod of the source, in the source's order.</param>
public sealed record PodSourceUpdate(string Source, IReadOnlyList<V1Pod> Pods);
