namespace NodeAgent.Images;

/// <summary>An image known to the store: its config digest is its identity.</summary>
/// <param name="Id">Digest of the image config blob (<c>sha256:…</c>), the image ID.</param>
/// <param name="RepoTags">Normalised references that name this image (<c>docker.io/library/busybox:latest</c>).</param>
/// <param name="RepoDigests">Name@manifest-digest references.</param>
/// <param name="ManifestDigest">Digest of the image manifest the image was imported or pulled by.</param>
/// <param name="Size">Sum of the compressed layer sizes plus config, as registries and crictl report it.</param>
/// <param name="DiffIds">Uncompressed layer digests, base layer first (from the config's rootfs.diff_ids).</param>
/// <param name="LayerDigests">Digests of the layer blobs as stored (compressed or not), base layer first.</param>
public sealed record ImageRecord(
    string Id,
    IReadOnlyList<string> RepoTags,
    IReadOnlyList<string> RepoDigests,
    string ManifestDigest,
    long Size,
    IReadOnlyList<string> DiffIds,
    IReadOnlyList<string> LayerDigests,
    ImageConfig Config,
    DateTimeOffset? Created)
{
    /// <summary>When a pull, an import or a container last used the image (for image GC); null when unknown.</summary>
    public DateTimeOffset? LastUsed { get; init; }
}
