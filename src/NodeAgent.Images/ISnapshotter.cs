namespace NodeAgent.Images;

/// <summary>
/// Read-only layer snapshots and per-container writable layers. Like containerd's snapshotter it returns
/// what to mount and never mounts anything itself.
/// </summary>
public interface ISnapshotter
{
    /// <summary>Unpacks every layer of the image not yet unpacked (once, shared between images) and returns the
    /// read-only layer directories topmost first, ready to be overlay lowerdirs.</summary>
    Task<IReadOnlyList<string>> EnsureLayersAsync(ImageRecord image, CancellationToken cancellationToken);

    /// <summary>Creates the writable layer for a container and returns the overlay mount for its rootfs.</summary>
    OverlayMount PrepareContainer(string key, IReadOnlyList<string> lowerDirs);

    /// <summary>The directory holding the container's writable layer (what its usage is measured on).</summary>
    string WritableLayerPath(string key);

    /// <summary>Deletes the container's writable layer; no-op when absent.</summary>
    void RemoveContainer(string key);

    /// <summary>The keys of every container's writable layer there is.</summary>
    IReadOnlyList<string> ContainerKeys();
}
