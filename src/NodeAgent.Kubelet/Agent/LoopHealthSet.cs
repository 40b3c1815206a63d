using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Agent;

/// <summary>What <c>/healthz</c> consults: the supervised top-level loops and the loops that report their own state
/// (the dispatcher while it restarts after a crash, each pod worker, the orphan cleanup).</summary>
public sealed class LoopHealthSet(ILoopHealth supervised, LoopHealth reported) : ILoopHealth
{
    public IReadOnlyList<LoopFailure> Failures =>
        [.. supervised.Failures, .. reported.FailedLoops.Select(l => new LoopFailure(l.Name, l.LastError ?? "failed", l.Since))];
}
