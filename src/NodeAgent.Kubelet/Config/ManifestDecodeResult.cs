using k8s.Models;

namespace NodeAgent.Kubelet.Config;

/// <summary>The pods decoded from one manifest and the errors found in it.</summary>
/// <param name="Pods">Valid, normalised pods, in document order.</param>
/// <param name="Errors">Errors of the rejected objects; a rejected object contributes no pod.</param>
public sealed record ManifestDecodeResult(IReadOnlyList<V1Pod> Pods, IReadOnlyList<ManifestError> Errors)
{
    /// <summary>The parsing work done.</summary>
    public ManifestDecodeWork Work { get; init; } = ManifestDecodeWork.None;
}
