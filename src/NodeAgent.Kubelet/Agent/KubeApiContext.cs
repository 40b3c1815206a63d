using NodeAgent.Kube.Http;

namespace NodeAgent.Kubelet.Agent;

/// <summary>
/// API server mode: the connection made from <c>--kubeconfig</c> (the node's own credential), shared by the node
/// status, lease, pod source, status writer and event recorder. The composition root owns and disposes it.
/// </summary>
public sealed record KubeApiContext
{
    public required KubeApiConnection Connection { get; init; }

    /// <summary>The kubeconfig file it came from (named in log lines and errors).</summary>
    public required string KubeConfigPath { get; init; }
}
