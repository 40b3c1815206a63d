namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// One read-only document the kubelet API serves (<c>/metrics</c>, <c>/metrics/cadvisor</c>,
/// <c>/metrics/resource</c>, <c>/metrics/probes</c>, <c>/stats/summary</c>…). The server owns transport,
/// authentication and authorization; an exposition only writes its body. <see cref="Subresource"/> is the node
/// subresource kubelet authorizes the path with (<c>metrics</c> for <c>nodes/metrics</c>, <c>stats</c> for
/// <c>nodes/stats</c>).
/// </summary>
public interface IHttpExposition
{
    /// <summary>The request path, e.g. <c>/metrics/cadvisor</c>.</summary>
    string Path { get; }

    /// <summary>The node subresource for authorization: <c>metrics</c>, <c>stats</c>, <c>log</c>, <c>proxy</c>.</summary>
    string Subresource { get; }

    /// <summary>The response's Content-Type.</summary>
    string ContentType { get; }

    /// <summary>Writes the document to <paramref name="body"/>. <paramref name="query"/> holds the request's query
    /// parameters (hostile input: validate before use).</summary>
    Task WriteAsync(Stream body, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken);
}
