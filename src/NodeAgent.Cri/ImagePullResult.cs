namespace NodeAgent.Cri;

/// <summary>The result of a pull: the image, its size and how long the pull itself took (waiting excluded).</summary>
public sealed record ImagePullResult(ImageInfo Image, long Size, TimeSpan Duration);
