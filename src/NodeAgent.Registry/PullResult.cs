using NodeAgent.Images;

namespace NodeAgent.Registry;

/// <summary>A completed pull: the image record, its size, the bytes actually downloaded (layers already present are
/// skipped) and how long it took.</summary>
public sealed record PullResult(ImageRecord Image, long Size, long Downloaded, TimeSpan Duration);
