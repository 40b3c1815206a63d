using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Kubelet.Images;

/// <summary>The image to run, or the waiting reason and message for the container and when to sync again.</summary>
public sealed record ImageEnsureResult(ImageInfo? Image, ContainerWaiting? Waiting, TimeSpan? RetryAfter)
{
    public static ImageEnsureResult Ready(ImageInfo image) => new(image, null, null);

    public static ImageEnsureResult Wait(string reason, string message, TimeSpan retryAfter) => new(null, new ContainerWaiting(reason, message), retryAfter);
}
