namespace NodeAgent.Images;

/// <summary>OCI and Docker media types the store understands.</summary>
public static class MediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    public static bool IsManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>Throws Unsupported for a layer media type that cannot be unpacked.</summary>
    public static void CheckLayer(string? mediaType, string what)
    {
        switch (mediaType)
        {
            case "application/vnd.oci.image.layer.v1.tar":
            case "application/vnd.oci.image.layer.v1.tar+gzip":
            case "application/vnd.oci.image.layer.nondistributable.v1.tar":
            case "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
            case DockerLayer:
            case DockerLayerGzip:
            case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
            case "application/vnd.oci.image.layer.v1.tar+zstd":
            case "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd":
                return;
            default:
                throw new ImageException(ImageErrorKind.Unsupported, $"{what}: unsupported layer media type \"{mediaType}\"");
        }
    }
}
