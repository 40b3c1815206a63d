namespace NodeAgent.Kubelet.Config;

/// <summary>A problem found by <see cref="ManifestJsonChecks"/>.</summary>
/// <param name="Field">The API server's field path (<c>spec.containers[0].resources.limits[cpu]</c>).</param>
/// <param name="JsonPath">The value's path in the document (<c>$.spec.containers[0].resources.limits.cpu</c>).</param>
/// <param name="Reason">What is wrong.</param>
public sealed record ManifestJsonProblem(string Field, string JsonPath, string Reason);
