namespace NodeAgent.Images;

/// <summary>
/// Image metadata and content. Safe to use from several processes on one root (the CLI and the daemon):
/// metadata changes are serialised by a file lock and every file appears atomically.
/// </summary>
public interface IImageStore
{
    /// <summary>Imports an OCI image archive (tar), an OCI layout directory or a <c>docker save</c> archive;
    /// returns the images it held. Blobs are sha256-verified while written.</summary>
    Task<IReadOnlyList<ImageRecord>> ImportAsync(string path, CancellationToken cancellationToken);

    /// <summary>Finds an image by reference (normalised as Docker does), by ID, by an unambiguous ID prefix,
    /// or by name@digest. Null when unknown.</summary>
    ImageRecord? Resolve(string reference);

    IReadOnlyList<ImageRecord> List();

    /// <summary>Removes the image (all its names) and the blobs and snapshots no other image uses.</summary>
    Task RemoveAsync(string reference, CancellationToken cancellationToken);

    /// <summary>Records that the image (by ID) is being used now; image GC removes least recently used images first.</summary>
    Task TouchAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);
}
