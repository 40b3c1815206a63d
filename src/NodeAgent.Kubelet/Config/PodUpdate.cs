using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>
/// One operation emitted by <see cref="PodConfig"/> (kubelet's <c>kubetypes.PodUpdate</c>).
/// The pods are sorted by namespace, name, then UID, and must be treated as read-only by consumers.
/// </summary>
/// <param name="Op">What happened to the pods.</param>
/// <param name="Source">The source the pods come from (<see cref="PodSourceNames"/>).</param>
/// <param name="Pods">The pods concerned; empty only for the initial <see cref="PodOperation.Add"/> of a source without pods.</param>
public sealed record PodUpdate(PodOperation Op, string Source, IReadOnlyList<V1Pod> Pods);
