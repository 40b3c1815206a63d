using k8s;
using k8s.Models;

namespace NodeAgent.TestApiServer.Api;

/// <summary>The resource types served, by group/version.</summary>
public static class ResourceCatalog
{
    public static readonly IReadOnlyList<ResourceInfo> All =
    [
        new("", "v1", "namespaces", "namespace", "Namespace", false, ["ns"], ["status"], Trip<V1Namespace>),
        new("", "v1", "nodes", "node", "Node", false, ["no"], ["status"], Trip<V1Node>),
        new("", "v1", "pods", "pod", "Pod", true, ["po"], ["status", "binding", "eviction"], Trip<V1Pod>),
        new("", "v1", "events", "event", "Event", true, ["ev"], [], Trip<Corev1Event>),
        new("", "v1", "configmaps", "configmap", "ConfigMap", true, ["cm"], [], Trip<V1ConfigMap>),
        new("", "v1", "secrets", "secret", "Secret", true, [], [], Trip<V1Secret>),
        new("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, ["sa"], ["token"], Trip<V1ServiceAccount>),
        new("", "v1", "services", "service", "Service", true, ["svc"], ["status"], Trip<V1Service>),
        new("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, ["pdb"], ["status"], Trip<V1PodDisruptionBudget>),
        new("coordination.k8s.io", "v1", "leases", "lease", "Lease", true, [], [], Trip<V1Lease>),
        new("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, [], [], Trip<V1EndpointSlice>),
        new("certificates.k8s.io", "v1", "certificatesigningrequests", "certificatesigningrequest", "CertificateSigningRequest", false, ["csr"], ["approval", "status"], Trip<V1CertificateSigningRequest>),
        new("authentication.k8s.io", "v1", "tokenreviews", "", "TokenReview", false, [], [], Trip<V1TokenReview>),
        new("authentication.k8s.io", "v1", "selfsubjectreviews", "", "SelfSubjectReview", false, [], [], Trip<V1SelfSubjectReview>),
        new("authorization.k8s.io", "v1", "subjectaccessreviews", "", "SubjectAccessReview", false, [], [], Trip<V1SubjectAccessReview>),
        new("authorization.k8s.io", "v1", "localsubjectaccessreviews", "", "LocalSubjectAccessReview", true, [], [], Trip<V1LocalSubjectAccessReview>),
        new("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "", "SelfSubjectAccessReview", false, [], [], Trip<V1SelfSubjectAccessReview>),
        new("events.k8s.io", "v1", "events", "event", "Event", true, ["ev"], [], Trip<Eventsv1Event>) { View = EventsV1.View },
    ];

    public static IEnumerable<string> Groups => All.Where(r => r.Group.Length > 0).Select(r => r.Group).Distinct();

    public static ResourceInfo? Find(string group, string version, string plural) =>
        All.FirstOrDefault(r => r.Group == group && r.Version == version && r.Plural == plural);

    public static ResourceInfo Get(string key) => All.First(r => r.Key == key && r.View is null);

    private static string Trip<T>(string json) => KubernetesJson.Serialize(KubernetesJson.Deserialize<T>(json));
}
