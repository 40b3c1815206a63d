using NodeAgent.Kube.Http;
using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// client-go's request metrics for the node's API connection, under component-base's names, labels and buckets:
/// <c>rest_client_requests_total{code,method,host}</c> and <c>rest_client_request_duration_seconds{verb,host}</c>.
/// Set as <see cref="KubeApiConnection.Metrics"/>; every attempt (retries too) counts, as in client-go.
/// </summary>
public sealed class RestClientMetrics : IRequestMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _latency;

    public RestClientMetrics(IMetricFactory factory)
    {
        _requests = factory.CreateCounter("rest_client_requests_total",
            MetricHelp.Alpha("Number of HTTP requests, partitioned by status code, method, and host."),
            new CounterConfiguration { LabelNames = ["code", "method", "host"] });
        _latency = factory.CreateHistogram("rest_client_request_duration_seconds",
            MetricHelp.Alpha("Request latency in seconds. Broken down by verb, and host."),
            new HistogramConfiguration { LabelNames = ["verb", "host"], Buckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60] });
    }

    public void RequestCompleted(string method, string host, string code, TimeSpan latency)
    {
        _requests.WithLabels(code, method, host).Inc();
        _latency.WithLabels(method, host).Observe(Math.Max(0, latency.TotalSeconds));
    }
}
