using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's <c>instrumentedImageManagerService</c>: the image calls counted, timed and their failures counted as
/// <c>image_status</c>, <c>list_images</c>, <c>pull_image</c>, <c>remove_image</c> and <c>image_fs_info</c>.
/// <see cref="IImageService.MarkUsedAsync"/> (bookkeeping of our own store, no CRI call) passes through uncounted.
/// </summary>
public sealed class InstrumentedImageService(IImageService inner, RuntimeOperationMetrics metrics) : IImageService
{
    public ImageInfo? ImageStatus(string image) => metrics.Measure("image_status", () => inner.ImageStatus(image));

    public IReadOnlyList<ImageInfo> ListImages() => metrics.Measure("list_images", inner.ListImages);

    public Task<ImagePullResult> PullImageAsync(string image, IReadOnlyList<PullSecretData> pullSecrets, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("pull_image", () => inner.PullImageAsync(image, pullSecrets, cancellationToken));

    public Task MarkUsedAsync(string imageId, CancellationToken cancellationToken) => inner.MarkUsedAsync(imageId, cancellationToken);

    public Task RemoveImageAsync(string image, CancellationToken cancellationToken) =>
        metrics.MeasureAsync("remove_image", () => inner.RemoveImageAsync(image, cancellationToken));

    public ImageFsInfo ImageFsInfo() => metrics.Measure("image_fs_info", inner.ImageFsInfo);
}
