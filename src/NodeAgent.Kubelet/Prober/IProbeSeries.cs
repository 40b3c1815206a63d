namespace NodeAgent.Kubelet.Prober;

/// <summary>Where one probe worker's answers are counted (prober_probe_total, prober_probe_duration_seconds); made once
/// per worker, so a probe round allocates nothing for its metrics.</summary>
public interface IProbeSeries
{
    /// <summary>One answer and how long the round took, from its start to the answer.</summary>
    void Observe(ProbeResult result, TimeSpan elapsed);
}
