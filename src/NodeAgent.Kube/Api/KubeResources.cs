using k8s.Models;

namespace NodeAgent.Kube.Api;

/// <summary>The resources the kubelet and the proxy read and write.</summary>
public static class KubeResources
{
    public static readonly ApiResource<V1Pod, V1PodList> Pods = new("", "v1", "pods", "Pod", true);
    public static readonly ApiResource<V1Node, V1NodeList> Nodes = new("", "v1", "nodes", "Node", false);
    public static readonly ApiResource<V1Namespace, V1NamespaceList> Namespaces = new("", "v1", "namespaces", "Namespace", false);
    public static readonly ApiResource<Corev1Event, Corev1EventList> Events = new("", "v1", "events", "Event", true);
    public static readonly ApiResource<V1Service, V1ServiceList> Services = new("", "v1", "services", "Service", true);
    public static readonly ApiResource<V1ConfigMap, V1ConfigMapList> ConfigMaps = new("", "v1", "configmaps", "ConfigMap", true);
    public static readonly ApiResource<V1Secret, V1SecretList> Secrets = new("", "v1", "secrets", "Secret", true);
    public static readonly ApiResource<V1Lease, V1LeaseList> Leases = new("coordination.k8s.io", "v1", "leases", "Lease", true);
    public static readonly ApiResource<V1EndpointSlice, V1EndpointSliceList> EndpointSlices = new("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true);
}
