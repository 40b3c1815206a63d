namespace NodeAgent.Kube.Http;

/// <summary>
/// Where <see cref="KubeApiConnection"/> reports each request it sends (client-go's <c>tools/metrics</c> hooks, the
/// source of <c>rest_client_requests_total</c> and <c>rest_client_request_duration_seconds</c>). Called once per
/// attempt, retries included, on the sending task: an implementation must be cheap and must not throw.
/// </summary>
public interface IRequestMetrics
{
    /// <param name="method">The HTTP method (<c>GET</c>, <c>PATCH</c>…): client-go's <c>verb</c> and <c>method</c>.</param>
    /// <param name="host">The server's <c>host[:port]</c> as its URL names it.</param>
    /// <param name="code">The response's status code (<c>200</c>, <c>404</c>…), or <c>&lt;error&gt;</c> when no
    /// response came.</param>
    /// <param name="latency">From sending the request to the response's headers (or the failure).</param>
    void RequestCompleted(string method, string host, string code, TimeSpan latency);
}
