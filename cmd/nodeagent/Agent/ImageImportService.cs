using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeAgent.Images;

namespace NodeAgent.Cli.Agent;

/// <summary>Imports archives found in or later dropped into <c>&lt;root&gt;/images/</c>, as k3s does for air-gapped nodes.</summary>
internal sealed class ImageImportService(IImageStore store, string root, ILogger<ImageImportService> logger) : IHostedService, IAsyncDisposable
{
    private readonly ImageDropDirectoryImporter _importer = new(store, root, logger);

    public Task StartAsync(CancellationToken cancellationToken) => _importer.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => _importer.DisposeAsync();
}
