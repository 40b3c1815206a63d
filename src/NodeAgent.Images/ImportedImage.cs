namespace NodeAgent.Images;

/// <summary>One image found in an archive, its blobs already verified into the content store.</summary>
internal sealed record ImportedImage(
    IReadOnlyList<string> Names,
    string ManifestDigest,
    string ConfigDigest,
    IReadOnlyList<(string Digest, long Size)> Layers,
    long ConfigSize);
