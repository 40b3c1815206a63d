using k8s.Models;

namespace NodeAgent.Kubelet.Images;

/// <summary>kubelet's image manager: makes sure a container's image is present as its pull policy requires.</summary>
public interface IImageManager
{
    /// <summary>Pulls when the policy says so (sharing a pull already running for the same image), records kubelet's
    /// events, and returns the image or why the container must wait (ErrImagePull, ImagePullBackOff,
    /// ErrImageNeverPull, InvalidImageName) and when to try again.</summary>
    Task<ImageEnsureResult> EnsureImageExistsAsync(V1Pod pod, V1Container container, CancellationToken cancellationToken);

    /// <summary>Forgets what is kept for the pod (its pull backoffs): the pod is gone.</summary>
    void Forget(string podUid);
}
