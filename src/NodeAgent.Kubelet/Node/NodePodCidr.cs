using k8s.Models;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// <c>spec.podCIDR</c> of the node's own Node (set by the controller manager's node IPAM, or by hand), read once when
/// the agent starts in API server mode so the built-in pod network uses it when neither <c>--pod-cidr</c> nor the
/// config file set one (kubelet's rule: the flag is for standalone nodes). A Node not registered yet, an API server
/// that does not answer within the timeout, or a value that is not an IPv4 CIDR gives null and a reason.
/// </summary>
public static class NodePodCidr
{
    public static async Task<(string? Cidr, string? Why)> ReadAsync(KubeApiConnection connection, string nodeName, TimeSpan timeout, Func<string, bool> isValid,
        CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        V1Node node;
        try
        {
            node = await new ResourceClient<V1Node, V1NodeList>(connection, KubeResources.Nodes).GetAsync(null, nodeName, cts.Token);
        }
        catch (ApiException e) when (e.IsNotFound)
        {
            return (null, $"node {nodeName} is not registered yet");
        }
        catch (Exception e) when (e is ApiException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, $"node {nodeName} could not be read: {(e is OperationCanceledException ? $"no answer within {timeout.TotalSeconds:0} s" : e.Message)}");
        }

        var cidr = node.Spec?.PodCIDR;
        if (string.IsNullOrEmpty(cidr))
        {
            return (null, $"node {nodeName} has no spec.podCIDR");
        }

        return isValid(cidr) ? (cidr, null) : (null, $"node {nodeName}: spec.podCIDR {Config.ValueText.Quote(cidr, 64)} is not an IPv4 CIDR this node can use");
    }
}
