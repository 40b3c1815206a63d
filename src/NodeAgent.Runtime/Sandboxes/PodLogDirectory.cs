using NodeAgent.Cri;

namespace NodeAgent.Runtime.Sandboxes;

/// <summary>
/// Removes a pod's log directory (<c>/var/log/pods/&lt;ns&gt;_&lt;name&gt;_&lt;uid&gt;</c>) with its sandbox, as kubelet's
/// container GC removes the log directories of removed pods. The path comes from a sandbox config, so it is removed
/// only when it is kubelet's own naming of that pod's directory: a normalised absolute path whose last component
/// ends in <c>_&lt;pod uid&gt;</c> (kubelet's <c>&lt;ns&gt;_&lt;name&gt;_&lt;uid&gt;</c>, and <c>nodeagent ctr</c>'s). Other
/// directories are left alone: they are not the runtime's to remove. A symbolic link there is unlinked, never followed.
/// </summary>
public static class PodLogDirectory
{
    /// <summary>True when <paramref name="logDirectory"/> is the pod's own log directory by kubelet's naming.</summary>
    public static bool IsPodOwned(string logDirectory, string podUid)
    {
        var trimmed = logDirectory.TrimEnd('/');
        return podUid.Length > 0
            && Path.IsPathFullyQualified(trimmed)
            && Path.GetFullPath(trimmed) == trimmed
            && trimmed.Count(c => c == '/') >= 2
            && Path.GetFileName(trimmed).EndsWith("_" + podUid, StringComparison.Ordinal);
    }

    /// <summary>Removes the pod's log directory and everything in it; nothing when it does not exist or is not the pod's.</summary>
    /// <returns>Whether the directory was the pod's (and so is gone now).</returns>
    /// <exception cref="RuntimeException">Removal failed.</exception>
    public static bool Remove(string sandboxId, PodSandboxConfig config)
    {
        if (!IsPodOwned(config.LogDirectory, config.Uid))
        {
            return false;
        }

        var trimmed = config.LogDirectory.TrimEnd('/');

        try
        {
            var info = new DirectoryInfo(trimmed);
            if (info.LinkTarget is not null)
            {
                File.Delete(trimmed);
            }
            else if (info.Exists)
            {
                info.Delete(recursive: true);
            }

            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RuntimeException(RuntimeErrorKind.SandboxError,
                $"sandbox {sandboxId[..Math.Min(12, sandboxId.Length)]}: remove log directory {trimmed}: {ex.Message}", ex);
        }
    }
}
