using k8s.Models;
using Microsoft.Extensions.Logging;
using NodeAgent.Kube.Api;
using NodeAgent.Kube.Http;

namespace NodeAgent.Kubelet.Node;

/// <summary>
/// The node's heartbeat as kubelet's lease controller keeps it: the Lease <c>kube-node-lease/&lt;node&gt;</c> with
/// <c>holderIdentity</c> = the node, <c>leaseDurationSeconds</c> 40, <c>renewTime</c> renewed every 10 s (a quarter of
/// the duration), and an owner reference to the Node once it is registered. A failed renewal is retried after 200 ms
/// doubling to 7 s (the controller's backoff), so the lease resumes within one renewal of the API server's return.
/// </summary>
public sealed partial class NodeLease(KubeApiConnection connection, string nodeName, Func<V1Node?> node, ILogger<NodeLease> logger, TimeProvider time)
{
    public const string Namespace = "kube-node-lease";

    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(7);

    private readonly ResourceClient<V1Lease, V1LeaseList> _leases = new(connection, KubeResources.Leases);
    private V1Lease? _lease;

    public int DurationSeconds { get; init; } = 40;

    public TimeSpan RenewInterval => TimeSpan.FromSeconds(DurationSeconds * 0.25);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                await RenewAsync(cancellationToken);
                if (failures > 0)
                {
                    LogResumed(nodeName, failures);
                }

                failures = 0;
                wait = RenewInterval;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                failures++;
                _lease = null;
                wait = Agent.RetryDelay.After(failures, InitialBackoff, MaxBackoff);
                if (failures == 1 || failures % 10 == 0)
                {
                    LogRenewFailed(nodeName, e is ApiException or HttpRequestException ? e.Message : $"{e.GetType().Name}: {e.Message}", failures);
                }
            }

            await Task.Delay(wait, time, cancellationToken);
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_lease is null)
        {
            try
            {
                _lease = await _leases.GetAsync(Namespace, nodeName, cancellationToken);
            }
            catch (ApiException e) when (e.IsNotFound)
            {
                _lease = await _leases.CreateAsync(new V1Lease
                {
                    ApiVersion = "coordination.k8s.io/v1",
                    Kind = "Lease",
                    Metadata = new V1ObjectMeta { Name = nodeName, NamespaceProperty = Namespace, OwnerReferences = Owner() },
                    Spec = new V1LeaseSpec { HolderIdentity = nodeName, LeaseDurationSeconds = DurationSeconds, RenewTime = now },
                }, cancellationToken);
                LogCreated(nodeName);
                return;
            }
        }

        var lease = _lease;
        lease.Spec ??= new V1LeaseSpec();
        lease.Spec.HolderIdentity = nodeName;
        lease.Spec.LeaseDurationSeconds = DurationSeconds;
        lease.Spec.RenewTime = now;
        if (lease.Metadata.OwnerReferences is not { Count: > 0 } && Owner() is { } owner)
        {
            lease.Metadata.OwnerReferences = owner;
        }

        try
        {
            _lease = await _leases.UpdateAsync(lease, cancellationToken);
        }
        catch
        {
            _lease = null;
            throw;
        }
    }

    private List<V1OwnerReference>? Owner() => node() is { Metadata.Uid: { Length: > 0 } uid } ?
        [new V1OwnerReference { ApiVersion = "v1", Kind = "Node", Name = nodeName, Uid = uid }] : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "node lease {Node} created in kube-node-lease")]
    private partial void LogCreated(string node);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node lease {Node}: renewal failed ({Failures} in a row): {Error}")]
    private partial void LogRenewFailed(string node, string error, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "node lease {Node} renewed again after {Failures} failure(s)")]
    private partial void LogResumed(string node, int failures);
}
