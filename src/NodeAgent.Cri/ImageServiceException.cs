namespace NodeAgent.Cri;

/// <summary>Why an image operation failed, coarse enough for kubelet's reasons (InvalidReference → InvalidImageName,
/// PullFailed → ErrImagePull).</summary>
public enum ImageServiceErrorKind { InvalidReference, NotFound, PullFailed, InUse, Io }

/// <summary>An image operation that failed; the message names the image and the cause.</summary>
public sealed class ImageServiceException(ImageServiceErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ImageServiceErrorKind Kind { get; } = kind;
}
