using System.Collections.Concurrent;
using NodeAgent.Cri;

namespace NodeAgent.Runtime.Exec;

/// <summary>
/// One resident exec server per container that is exec'd into (started at its first exec, ended with the container
/// or by <see cref="ForgetAsync"/>), so that exec probes and other ExecSyncs cost a socket round trip and a
/// posix_spawn instead of a helper's start, its setns calls and a cgroup migration. A container whose server cannot
/// start (for example a Localhost seccomp profile that does not allow the server's own system calls) keeps using
/// one-shot helpers; a server that goes away is started again at the next exec.
/// </summary>
internal sealed class ExecServers(ExecLauncher launcher) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Task<ExecServerConnection?>> _servers = new();

    /// <summary>A session through the container's server, or null when the caller should use a one-shot helper.</summary>
    public async Task<IExecSession?> TryStartAsync(string containerId, string bundle, string name, ExecRequest request, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var entry = _servers.GetOrAdd(containerId, _ => StartAsync(containerId, bundle, name));
            var server = await entry;
            if (server is null)
            {
                return null;
            }

            var session = await server.TryStartAsync(request, cancellationToken);
            if (session is not null)
            {
                return session;
            }

            if (_servers.TryRemove(KeyValuePair.Create(containerId, entry)))
            {
                await server.DisposeAsync();
            }
        }

        return null;
    }

    /// <summary>The server's PID when one runs for the container (tests and diagnostics).</summary>
    public int? ServerPid(string containerId) =>
        _servers.TryGetValue(containerId, out var entry) && entry.IsCompletedSuccessfully && entry.Result is { IsClosed: false } server ? server.Pid : null;

    private async Task<ExecServerConnection?> StartAsync(string containerId, string bundle, string name)
    {
        try
        {
            var (server, _) = await launcher.StartServerAsync(bundle, name);
            return server;
        }
        catch
        {
            // Not running, or the shim is missing: say so to this caller, and let the next one try again.
            _servers.TryRemove(containerId, out _);
            throw;
        }
    }

    /// <summary>Ends the container's server, if any (the container is being removed).</summary>
    public async Task ForgetAsync(string containerId)
    {
        if (_servers.TryRemove(containerId, out var entry) && entry.IsCompletedSuccessfully && entry.Result is { } server)
        {
            await server.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _servers.Keys.ToList())
        {
            await ForgetAsync(id);
        }
    }
}
