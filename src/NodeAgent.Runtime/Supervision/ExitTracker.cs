using System.Collections.Concurrent;
using NodeAgent.ContainerSpec;
using NodeAgent.Linux;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Supervision;

/// <summary>
/// Learns of container exits from the kernel: each shim's pidfd becomes readable when the shim ends, right after it
/// wrote <c>exit.json</c>. Tells its owner (which updates its view and publishes the event), then completes waiters.
/// </summary>
public sealed class ExitTracker : IDisposable
{
    private readonly RuntimePaths _paths;
    private readonly ExitWatcher _watcher = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _exits = new();
    private readonly ConcurrentDictionary<string, bool> _watched = new();
    private readonly Action<string, string> _onExited;

    /// <param name="onExited">Called with the container and sandbox IDs once the exit is on disk, before waiters resume.</param>
    public ExitTracker(RuntimePaths paths, Action<string, string> onExited)
    {
        _paths = paths;
        _onExited = onExited;
    }

    /// <summary>Starts watching a running container's shim (once per container). Returns false when the shim is already gone.</summary>
    public bool Watch(string containerId, string sandboxId, int shimPid)
    {
        if (!_watched.TryAdd(containerId, true))
        {
            return true;
        }

        var tcs = _exits.GetOrAdd(containerId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var pidFd = PidFd.TryOpen(shimPid);
        if (pidFd is null || !IsShimOf(shimPid, _paths.Container(containerId)))
        {
            pidFd?.Dispose();
            OnShimExited(containerId, sandboxId, tcs, shimPid);
            return false;
        }

        _ = WatchAsync(pidFd, containerId, sandboxId, tcs, shimPid);
        return true;
    }

    /// <summary>Completes when the container has exited; immediately if exit.json exists.</summary>
    public Task WaitAsync(string containerId, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(_paths.Container(containerId), BundleFiles.Exit)))
        {
            return Task.CompletedTask;
        }

        var tcs = _exits.GetOrAdd(containerId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return tcs.Task.WaitAsync(cancellationToken);
    }

    public void Forget(string containerId)
    {
        _exits.TryRemove(containerId, out _);
        _watched.TryRemove(containerId, out _);
    }

    private async Task WatchAsync(PidFd pidFd, string containerId, string sandboxId, TaskCompletionSource tcs, int shimPid)
    {
        using (pidFd)
        {
            try
            {
                await _watcher.WaitAsync(pidFd);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        OnShimExited(containerId, sandboxId, tcs, shimPid);
    }

    private void OnShimExited(string containerId, string sandboxId, TaskCompletionSource tcs, int shimPid = 0)
    {
        if (shimPid > 0)
        {
            // Shims this process launched are its children: reap them. Adopted ones belong to init.
            ProcessSpawner.TryReap(shimPid, out _);
        }

        var dir = _paths.Container(containerId);
        var exitFile = Path.Combine(dir, BundleFiles.Exit);
        if (Directory.Exists(dir) && !File.Exists(exitFile))
        {
            // The shim died without recording an exit (killed by hand, node crash): the status is unknown.
            Bundle.WriteExit(dir, new ExitStatus
            {
                ExitCode = 255,
                ExitedAt = DateTimeOffset.UtcNow,
                StartError = null,
            });
            File.WriteAllText(Path.Combine(dir, State.ContainerStatusReader.UnknownExitFile), "the container's shim ended without recording an exit status\n");
        }

        _onExited(containerId, sandboxId);
        tcs.TrySetResult();
    }

    /// <summary>Guards against PID reuse: the process must be the shim of the container in <paramref name="bundle"/>.</summary>
    public static bool IsShimOf(int pid, string bundle)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains(bundle, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    public void Dispose() => _watcher.Dispose();
}
