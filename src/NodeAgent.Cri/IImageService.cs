namespace NodeAgent.Cri;

/// <summary>
/// The CRI's ImageService as a C# interface: the kubelet pulls, inspects and removes images only through it, so
/// the built-in store and registry client or a CRI gRPC client for another runtime can stand behind it.
/// </summary>
public interface IImageService
{
    /// <summary>The local image a reference (name, ID, unambiguous ID prefix or name@digest) names; null when absent.</summary>
    /// <exception cref="ImageServiceException">InvalidReference for a reference that cannot be parsed.</exception>
    ImageInfo? ImageStatus(string image);

    IReadOnlyList<ImageInfo> ListImages();

    /// <summary>Pulls the image (trying each credential the pull secrets hold for its registry, then the node's own)
    /// and records it as used now.</summary>
    /// <exception cref="ImageServiceException">InvalidReference, or PullFailed naming the registry and the cause.</exception>
    Task<ImagePullResult> PullImageAsync(string image, IReadOnlyList<PullSecretData> pullSecrets, CancellationToken cancellationToken);

    /// <summary>Records that a container is being created from the image (image GC frees least recently used first).</summary>
    Task MarkUsedAsync(string imageId, CancellationToken cancellationToken);

    /// <exception cref="ImageServiceException">NotFound, or InUse when a container uses it.</exception>
    Task RemoveImageAsync(string image, CancellationToken cancellationToken);

    /// <summary>Usage of the filesystem that holds images (the CRI's ImageFsInfo).</summary>
    ImageFsInfo ImageFsInfo();
}
