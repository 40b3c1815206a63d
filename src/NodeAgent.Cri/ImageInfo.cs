namespace NodeAgent.Cri;

/// <summary>An image as the CRI's ImageStatus reports it.</summary>
/// <param name="Id">The image ID (digest of its config, <c>sha256:…</c>).</param>
/// <param name="RepoTags">Normalised names (<c>docker.io/library/busybox:latest</c>).</param>
/// <param name="RepoDigests">name@manifest-digest references.</param>
/// <param name="Size">Compressed size as registries report it.</param>
/// <param name="LastUsed">When a pull or a container last used it; null when unknown.</param>
public sealed record ImageInfo(string Id, IReadOnlyList<string> RepoTags, IReadOnlyList<string> RepoDigests, long Size, DateTimeOffset? LastUsed);
