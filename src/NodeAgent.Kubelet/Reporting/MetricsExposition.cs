using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// A registry as a kubelet API document in the Prometheus text format 0.0.4 (what kubelet answers to a scraper that
/// does not ask for protobuf). The query is not read: kubelet's <c>/metrics</c> takes no parameters.
/// </summary>
public sealed class MetricsExposition(CollectorRegistry registry, string path = "/metrics") : IHttpExposition
{
    public string Path => path;

    public string Subresource => "metrics";

    public string ContentType => "text/plain; version=0.0.4; charset=utf-8";

    public Task WriteAsync(Stream body, IReadOnlyDictionary<string, string> query, CancellationToken cancellationToken) =>
        registry.CollectAndExportAsTextAsync(body, cancellationToken);
}
