namespace NodeAgent.Kubelet.Pods;

/// <summary>Whether a long-running loop of the kubelet is doing its job.</summary>
public enum LoopState
{
    /// <summary>Running (it may have survived errors of single inputs; see <see cref="LoopStatus.LastError"/>).</summary>
    Running,

    /// <summary>Ended by an error it could not survive; the agent is not healthy until it runs again.</summary>
    Failed,
}
