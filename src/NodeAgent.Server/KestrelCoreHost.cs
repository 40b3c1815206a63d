using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Server;

/// <summary>
/// One listener on Kestrel's core services only (<c>CreateEmptyBuilder</c> + <c>UseKestrelCore</c>, routing core):
/// what every server of this project is built on, so the daemon stays Native AOT compatible and small.
/// <paramref name="listen"/> configures the endpoint (HTTPS for the kubelet API).
/// </summary>
internal sealed class KestrelCoreHost : IAsyncDisposable
{
    private readonly Action<string> _started;
    private readonly List<IDisposable> _owned = [];

    /// <param name="started">Told the bound URLs once listening (the server's log line).</param>
    public KestrelCoreHost(IPAddress address, int port, ILoggerFactory loggerFactory, Action<string> started, Action<ListenOptions>? listen = null)
    {
        _started = started;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.Listen(address, port, l => listen?.Invoke(l));
            o.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(loggerFactory);
        App = builder.Build();
    }

    public WebApplication App { get; }

    /// <summary>The bound endpoints (useful when started on port 0 in tests).</summary>
    public IReadOnlyList<string> Urls => App.Urls.ToList();

    /// <summary>Disposes <paramref name="disposable"/> with the host; it back.</summary>
    public T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>Binds and starts serving; throws when the port cannot be bound.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await App.StartAsync(cancellationToken);
        _started(string.Join(", ", Urls));
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
