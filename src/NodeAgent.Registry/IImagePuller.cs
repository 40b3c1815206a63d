namespace NodeAgent.Registry;

/// <summary>Pulls an image from its registry (or a mirror) into the local store. Concurrent pulls of one image
/// share a single download.</summary>
public interface IImagePuller
{
    /// <exception cref="RegistryException">The message names the image, the endpoint or blob and the cause.</exception>
    Task<PullResult> PullAsync(string reference, PullRequest request, CancellationToken cancellationToken);
}
