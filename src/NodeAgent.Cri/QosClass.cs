namespace NodeAgent.Cri;

/// <summary>A pod's Kubernetes QoS class, which decides where its cgroup lives under <c>kubepods</c>.</summary>
public enum QosClass
{
    Guaranteed,
    Burstable,
    BestEffort,
}
