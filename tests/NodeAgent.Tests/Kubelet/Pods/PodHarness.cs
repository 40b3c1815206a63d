using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Kubelet.Events;
using NodeAgent.Kubelet.Images;
using NodeAgent.Kubelet.Pods;
using NodeAgent.Runtime;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>
/// Pod workers over the real runtime (through <see cref="FaultyRuntime"/>, no fault unless a test sets one), with the
/// real event log, backoffs, image manager, volumes and status manager, and a quick retry after errors.
/// Dispose stops the workers and removes every sandbox, mount, cgroup and directory.
/// </summary>
internal sealed class PodHarness : IAsyncDisposable
{
    private readonly TempDir _pods = new("nodeagent-pods");

    public PodHarness()
    {
        Faulty = new FaultyRuntime(Rt.Runtime);
        Events = new RecordingEvents(new PodEventLog(NullLogger<PodEventLog>.Instance, TimeProvider.System));
        Backoff = new ContainerBackoff(TimeProvider.System);
        Images = new ImageManager(Rt.ImageService, Events, TimeProvider.System, canPull: false);
        Volumes = new PodVolumes(_pods.Path, HostFiles.Instance);
        Health = new LoopHealth(TimeProvider.System);
        Syncer = new PodSyncer(Faulty, Rt.ImageService, Backoff, Events, new PodSandboxFactory(Rt.Logs), TimeProvider.System,
            NullLogger<PodSyncer>.Instance, Images)
        {
            Volumes = Volumes,
        };
        Workers = new PodWorkers(Syncer, Statuses, () => "127.0.0.1", TimeProvider.System, NullLogger<PodWorkers>.Instance, Events, Health)
        {
            SyncErrorRetry = TimeSpan.FromMilliseconds(200),
        };
    }

    public RuntimeFixture Rt { get; } = new();

    public FaultyRuntime Faulty { get; }

    public RecordingEvents Events { get; }

    public ContainerBackoff Backoff { get; }

    public ImageManager Images { get; }

    public PodVolumes Volumes { get; }

    public LoopHealth Health { get; }

    public PodStatusManager Statuses { get; } = new();

    public PodSyncer Syncer { get; }

    public PodWorkers Workers { get; }

    public static V1Pod Pod(string name, string restartPolicy, long grace, params string[] command) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "default", Uid = Guid.NewGuid().ToString() },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            TerminationGracePeriodSeconds = grace,
            Containers = [new V1Container { Name = "main", Image = "localhost/busybox:latest", ImagePullPolicy = "Never", Command = command }],
        },
    };

    /// <summary>The pod's log directory under the fixture's log root.</summary>
    public string LogDirectory(V1Pod pod) => PodPaths.LogDirectory(Rt.Logs, pod);

    /// <summary>Completes with the first published status of the pod that satisfies the condition (subscribed now).</summary>
    public Task<V1PodStatus> StatusWhere(V1Pod pod, Func<V1PodStatus, bool> condition) => StatusWhere(pod.Metadata.Uid, condition);

    public Task<V1PodStatus> StatusWhere(string uid, Func<V1PodStatus, bool> condition)
    {
        var subscription = Statuses.Subscribe();
        return Wait();

        async Task<V1PodStatus> Wait()
        {
            using var _ = subscription;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await foreach (var change in subscription.ReadAllAsync(timeout.Token))
            {
                if (change.Uid == uid && change.Pod?.Status is { } status && condition(status))
                {
                    return status;
                }
            }

            throw new InvalidOperationException("status subscription ended");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Workers.DisposeAsync();
        }
        finally
        {
            Rt.Dispose();
            _pods.Dispose();
        }
    }
}
