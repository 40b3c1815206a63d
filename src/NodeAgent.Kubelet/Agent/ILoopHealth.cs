namespace NodeAgent.Kubelet.Agent;

/// <summary>The health of the agent's long-running loops, as <c>/healthz</c> reports it.</summary>
public interface ILoopHealth
{
    /// <summary>The loops that stopped while the agent was not shutting down (empty when all run).</summary>
    IReadOnlyList<LoopFailure> Failures { get; }
}
