using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>A pod's QoS class, computed the way Kubernetes does (requests and limits of cpu and memory).</summary>
public static class QosClassifier
{
    private static readonly string[] Supported = ["cpu", "memory"];

    public static QosClass Classify(V1Pod pod)
    {
        var containers = (pod.Spec?.Containers ?? []).Concat(pod.Spec?.InitContainers ?? []).ToList();
        var requests = new Dictionary<string, decimal>();
        var limits = new Dictionary<string, decimal>();
        var isGuaranteed = true;
        foreach (var c in containers)
        {
            var containerLimits = new HashSet<string>();
            foreach (var name in Supported)
            {
                if (c.Resources?.Requests?.TryGetValue(name, out var r) == true && r.ToDecimal() != 0)
                {
                    requests[name] = requests.GetValueOrDefault(name) + r.ToDecimal();
                }

                if (c.Resources?.Limits?.TryGetValue(name, out var l) == true && l.ToDecimal() != 0)
                {
                    containerLimits.Add(name);
                    limits[name] = limits.GetValueOrDefault(name) + l.ToDecimal();
                }
            }

            if (containerLimits.Count != Supported.Length)
            {
                isGuaranteed = false;
            }
        }

        if (requests.Count == 0 && limits.Count == 0)
        {
            return QosClass.BestEffort;
        }

        if (isGuaranteed)
        {
            // Requests default to limits; any explicit request below its limit makes the pod Burstable.
            foreach (var c in containers)
            {
                foreach (var name in Supported)
                {
                    if (c.Resources?.Requests?.TryGetValue(name, out var r) == true &&
                        c.Resources.Limits?.TryGetValue(name, out var l) == true &&
                        r.ToDecimal() != l.ToDecimal())
                    {
                        return QosClass.Burstable;
                    }
                }
            }

            return QosClass.Guaranteed;
        }

        return QosClass.Burstable;
    }
}
