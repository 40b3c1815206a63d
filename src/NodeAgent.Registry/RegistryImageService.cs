using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeAgent.Cri;
using NodeAgent.Images;
using NodeAgent.Registry.Auth;

namespace NodeAgent.Registry;

/// <summary>
/// The built-in <see cref="IImageService"/>: the local <see cref="IImageStore"/> for status, list and removal,
/// the registry client for pulls (null on an air-gapped node: every pull fails and only present images run).
/// Pull secrets become a <see cref="DockerKeyring"/>; an unusable secret is logged and skipped, as kubelet does.
/// </summary>
public sealed partial class RegistryImageService(
    IImageStore store,
    IImagePuller? puller,
    string imageRoot,
    TimeProvider? time = null,
    ILogger<RegistryImageService>? logger = null) : IImageService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    public ImageInfo? ImageStatus(string image) => store.Resolve(image) is { } record ? ToInfo(record) : null;

    public IReadOnlyList<ImageInfo> ListImages() => store.List().Select(ToInfo).ToList();

    public async Task<ImagePullResult> PullImageAsync(string image, IReadOnlyList<PullSecretData> pullSecrets, CancellationToken cancellationToken)
    {
        if (puller is null)
        {
            throw new ImageServiceException(ImageServiceErrorKind.PullFailed, "this node has no registry puller configured");
        }
        var keyring = Keyring(pullSecrets);
        PullResult result;
        try
        {
            result = await puller.PullAsync(image, new PullRequest { Keyring = keyring }, cancellationToken);
        }
        catch (RegistryException e)
        {
            var kind = e.Kind == RegistryErrorKind.InvalidReference ? ImageServiceErrorKind.InvalidReference : ImageServiceErrorKind.PullFailed;
            throw new ImageServiceException(kind, e.Message, e);
        }
        await store.TouchAsync(result.Image.Id, _time.GetUtcNow(), cancellationToken);
        return new ImagePullResult(ToInfo(result.Image), result.Size, result.Duration);
    }

    public async Task MarkUsedAsync(string imageId, CancellationToken cancellationToken)
    {
        try
        {
            await store.TouchAsync(imageId, _time.GetUtcNow(), cancellationToken);
        }
        catch (ImageException e) when (e.Kind == ImageErrorKind.NotFound)
        {
            throw new ImageServiceException(ImageServiceErrorKind.NotFound, e.Message, e);
        }
    }

    public async Task RemoveImageAsync(string image, CancellationToken cancellationToken)
    {
        try
        {
            await store.RemoveAsync(image, cancellationToken);
        }
        catch (ImageException e)
        {
            var kind = e.Kind switch
            {
                ImageErrorKind.NotFound => ImageServiceErrorKind.NotFound,
                ImageErrorKind.InUse => ImageServiceErrorKind.InUse,
                ImageErrorKind.InvalidReference => ImageServiceErrorKind.InvalidReference,
                _ => ImageServiceErrorKind.Io,
            };
            throw new ImageServiceException(kind, e.Message, e);
        }
    }

    public ImageFsInfo ImageFsInfo()
    {
        var drive = new DriveInfo(imageRoot);
        var used = store.List().Sum(i => i.Size);
        return new ImageFsInfo(imageRoot, drive.TotalSize, drive.AvailableFreeSpace, used);
    }

    private DockerKeyring? Keyring(IReadOnlyList<PullSecretData> secrets)
    {
        if (secrets.Count == 0)
        {
            return null;
        }
        var keyring = new DockerKeyring();
        foreach (var secret in secrets)
        {
            try
            {
                keyring.Add(secret.Type, secret.Data, secret.Source);
            }
            catch (FormatException ex)
            {
                LogSecretInvalid(secret.Source, ex.Message);
            }
        }
        return keyring;
    }

    private static ImageInfo ToInfo(ImageRecord r) => new(r.Id, r.RepoTags, r.RepoDigests, r.Size, r.LastUsed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Secret} is unusable: {Error}")]
    private partial void LogSecretInvalid(string secret, string error);
}
