using k8s.Models;
using NodeAgent.Cgroups;
using NodeAgent.Runtime.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>The runtime's sandbox config for a pod: names, log directory, cgroup parent by QoS class, host namespaces.</summary>
public sealed class PodSandboxFactory(string podLogRoot)
{
    public PodSandboxConfig Create(V1Pod pod, uint attempt)
    {
        var uid = pod.Metadata.Uid;
        var parent = KubepodsLayout.PodPath(QosClassifier.Classify(pod), uid);
        return new PodSandboxConfig
        {
            Name = pod.Metadata.Name,
            Namespace = pod.Metadata.NamespaceProperty ?? "default",
            Uid = uid,
            Attempt = attempt,
            Hostname = pod.Spec.Hostname ?? pod.Metadata.Name,
            LogDirectory = PodPaths.LogDirectory(podLogRoot, pod),
            CgroupParent = parent,
            HostNetwork = pod.Spec.HostNetwork ?? false,
            HostPid = pod.Spec.HostPID ?? false,
            HostIpc = pod.Spec.HostIPC ?? false,
            SharePid = pod.Spec.ShareProcessNamespace ?? false,
            Labels = new Dictionary<string, string>
            {
                [ContainerConfigFactory.PodUidLabel] = uid,
                [ContainerConfigFactory.PodNameLabel] = pod.Metadata.Name,
                [ContainerConfigFactory.PodNamespaceLabel] = pod.Metadata.NamespaceProperty ?? "default",
            },
        };
    }
}
