namespace NodeAgent.Images;

/// <summary>An image a registry pull has verified into the content store, ready to be committed.</summary>
/// <param name="Reference">The normalised reference it was pulled by (<c>docker.io/library/busybox:latest</c> or name@digest).</param>
/// <param name="ManifestDigest">Digest of the platform manifest (for an index: the manifest chosen from it).</param>
/// <param name="RepoDigest">The digest the reference resolved to at the registry (an index's own digest for a
/// multi-platform image, as Docker records it in RepoDigests).</param>
/// <param name="Size">Config plus compressed layer sizes, as the registry reports them.</param>
public sealed record PulledImage(string Reference, string RepoDigest, string ManifestDigest, string ConfigDigest, IReadOnlyList<string> LayerDigests, long Size);
