namespace NodeAgent.Images;

public enum ImageErrorKind { NotFound, InvalidReference, Corrupt, PathEscape, Unsupported, InUse, Io }

/// <summary>An image operation failed; the message names the image (and layer) and the cause.</summary>
public sealed class ImageException(ImageErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public ImageErrorKind Kind { get; } = kind;
}
