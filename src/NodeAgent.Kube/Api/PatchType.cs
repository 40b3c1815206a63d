namespace NodeAgent.Kube.Api;

/// <summary>The patch formats the API server accepts.</summary>
public enum PatchType
{
    /// <summary><c>application/strategic-merge-patch+json</c>: lists merged by their merge keys (how kubelet patches status).</summary>
    StrategicMerge,

    /// <summary><c>application/merge-patch+json</c> (RFC 7386).</summary>
    JsonMerge,

    /// <summary><c>application/json-patch+json</c> (RFC 6902).</summary>
    Json,
}
