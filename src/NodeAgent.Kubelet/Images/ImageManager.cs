using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Images;

/// <summary>
/// kubelet's image manager (<c>pkg/kubelet/images</c>): pull policy (<c>Always</c>, <c>IfNotPresent</c>, <c>Never</c>;
/// an unset policy defaults from the tag as the API server does), kubelet's events (<c>Pulling</c>, <c>Pulled</c> with
/// size and duration, <c>Failed</c>, <c>BackOff</c>, <c>ErrImageNeverPull</c>, <c>InspectFailed</c>) and waiting
/// reasons, and a pull backoff per pod and image (10 s doubling to 300 s). Credentials come from the pod's
/// <c>imagePullSecrets</c> through an <see cref="IPullSecretSource"/>. Pulls run on the caller's pod worker only:
/// other pods' workers are never blocked, and concurrent pulls of one image share one download.
/// </summary>
public sealed partial class ImageManager(
    IImageService images,
    IPodEventRecorder events,
    TimeProvider time,
    IPullSecretSource? secrets = null,
    ILogger<ImageManager>? logger = null,
    bool canPull = true) : IImageManager
{
    private const string DockerConfigJsonType = "kubernetes.io/dockerconfigjson";

    private readonly ContainerBackoff _backoff = new(time);
    /// <summary>kubelet's <c>image_pull_duration_seconds</c> (waiting included, by image size); null: not kept.</summary>
    public Reporting.KubeletPodMetrics? Metrics { get; set; }

    private readonly IPullSecretSource _secrets = secrets ?? NoPullSecrets.Instance;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public async Task<ImageEnsureResult> EnsureImageExistsAsync(V1Pod pod, V1Container container, CancellationToken cancellationToken)
    {
        var field = FieldPath(pod, container);
        var image = container.Image;
        ImageInfo? present;
        try
        {
            ImageReference.Parse(image);
            present = images.ImageStatus(image);
        }
        catch (InvalidImageReferenceException ex)
        {
            var message = $"Failed to apply default image tag \"{image}\": {ex.Message}";
            events.Record(pod, "Warning", "InspectFailed", message, field);
            return ImageEnsureResult.Wait("InvalidImageName", message, ContainerBackoff.Initial);
        }

        var policy = container.ImagePullPolicy ?? PodDefaults.DefaultPullPolicy(image);
        var pull = policy switch
        {
            "Always" => true,
            "Never" => false,
            _ => present is null,
        };
        if (!pull)
        {
            if (present is not null)
            {
                events.Record(pod, "Normal", "Pulled", $"Container image \"{image}\" already present on machine", field);
                return ImageEnsureResult.Ready(present);
            }
            var message = $"Container image \"{image}\" is not present with pull policy of Never";
            events.Record(pod, "Warning", "ErrImageNeverPull", message, field);
            return ImageEnsureResult.Wait("ErrImageNeverPull", message, ContainerBackoff.Initial);
        }

        var key = ContainerBackoff.Key(pod.Metadata.Uid, image);
        if (_backoff.IsInBackoffSinceUpdate(key, out var remaining))
        {
            var message = $"Back-off pulling image \"{image}\"";
            events.Record(pod, "Normal", "BackOff", message, field);
            return ImageEnsureResult.Wait("ImagePullBackOff", message, Min(remaining, ContainerBackoff.Initial));
        }

        if (!canPull)
        {
            if (present is not null)
            {
                // No registry access configured (an air-gapped node): the local image is the only one there is.
                events.Record(pod, "Normal", "Pulled", $"Container image \"{image}\" already present on machine", field);
                return ImageEnsureResult.Ready(present);
            }
            var message = $"Failed to pull image \"{image}\": this node has no registry puller configured";
            events.Record(pod, "Warning", "Failed", message, field);
            _backoff.Next(key);
            return ImageEnsureResult.Wait("ErrImagePull", message, ContainerBackoff.Initial);
        }

        events.Record(pod, "Normal", "Pulling", $"Pulling image \"{image}\"", field);
        var started = time.GetTimestamp();
        try
        {
            var secrets = await PullSecretsAsync(pod, cancellationToken);
            var result = await images.PullImageAsync(image, secrets, cancellationToken);
            var total = time.GetElapsedTime(started);
            Metrics?.ImagePulled(result.Size, total);
            events.Record(pod, "Normal", "Pulled",
                $"Successfully pulled image \"{image}\" in {Duration(result.Duration)} ({Duration(total)} including waiting). Image size: {result.Size} bytes.", field);
            return ImageEnsureResult.Ready(result.Image);
        }
        catch (ImageServiceException ex)
        {
            var message = $"Failed to pull image \"{image}\": {ex.Message}";
            events.Record(pod, "Warning", "Failed", message, field);
            _backoff.Next(key);
            var reason = ex.Kind == ImageServiceErrorKind.InvalidReference ? "InvalidImageName" : "ErrImagePull";
            return ImageEnsureResult.Wait(reason, message, ContainerBackoff.Initial);
        }
    }

    /// <summary>Forgets the pod's pull backoffs (the pod is gone).</summary>
    public void Forget(string podUid) => _backoff.Forget(podUid);

    /// <summary>Pull backoffs held (for tests of churn: zero once every pod is forgotten).</summary>
    internal int BackoffCount => _backoff.Count;

    private async Task<IReadOnlyList<PullSecretData>> PullSecretsAsync(V1Pod pod, CancellationToken cancellationToken)
    {
        if (pod.Spec.ImagePullSecrets is not { Count: > 0 } refs)
        {
            return [];
        }
        var found = new List<PullSecretData>();
        foreach (var r in refs.Where(r => !string.IsNullOrEmpty(r.Name)))
        {
            var secret = await _secrets.GetAsync(pod.Metadata.NamespaceProperty ?? "default", r.Name, cancellationToken);
            var what = $"pull secret {pod.Metadata.NamespaceProperty}/{r.Name}";
            if (secret is null)
            {
                LogSecretMissing(PodPaths.FullName(pod), what);
                continue;
            }
            var dataKey = secret.Type == DockerConfigJsonType ? ".dockerconfigjson" : ".dockercfg";
            if (!secret.Data.TryGetValue(dataKey, out var data))
            {
                LogSecretInvalid(PodPaths.FullName(pod), what, $"type {secret.Type} without key {dataKey}");
                continue;
            }
            found.Add(new PullSecretData(secret.Type, data, what));
        }
        return found;
    }

    private static string FieldPath(V1Pod pod, V1Container container) =>
        (pod.Spec.InitContainers?.Any(c => c.Name == container.Name) ?? false)
            ? $"spec.initContainers{{{container.Name}}}"
            : $"spec.containers{{{container.Name}}}";

    /// <summary>Go's time.Duration formatting as kubelet prints it: 1.234s, 2m3.5s, 120ms.</summary>
    internal static string Duration(TimeSpan t) =>
        t.TotalSeconds < 1 ? $"{t.TotalMilliseconds:0.###}ms"
        : t.TotalMinutes < 1 ? $"{t.TotalSeconds:0.###}s"
        : $"{(int)t.TotalMinutes}m{t.TotalSeconds % 60:0.###}s";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: unable to retrieve {Secret}; the image pull may not succeed")]
    private partial void LogSecretMissing(string pod, string secret);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod {Pod}: {Secret} is unusable: {Error}")]
    private partial void LogSecretInvalid(string pod, string secret, string error);
}
