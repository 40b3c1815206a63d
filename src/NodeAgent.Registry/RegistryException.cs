namespace NodeAgent.Registry;

/// <summary>Why a pull failed, coarse enough for kubelet's reasons (InvalidReference → InvalidImageName, the rest
/// → ErrImagePull) and for deciding whether the next endpoint may have better luck.</summary>
public enum RegistryErrorKind
{
    /// <summary>The reference cannot be parsed.</summary>
    InvalidReference,
    /// <summary>The registry does not have the repository, tag, manifest or blob (404).</summary>
    NotFound,
    /// <summary>401/403, or credentials are needed and none were given.</summary>
    Unauthorized,
    /// <summary>Connection refused or cut, a timeout, a 5xx or 429: the endpoint is not serving.</summary>
    Unavailable,
    /// <summary>Content does not match its digest or size, or a manifest is malformed.</summary>
    Corrupt,
    /// <summary>A media type, platform or digest algorithm this node cannot use.</summary>
    Unsupported,
}

/// <summary>A pull failed; the message names the image, the registry endpoint or blob, and the cause.</summary>
public sealed class RegistryException(RegistryErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public RegistryErrorKind Kind { get; } = kind;
}
