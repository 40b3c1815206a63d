using System.Collections.Concurrent;
using System.Text;
using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// kubelet's termination messages. Each container start gets a fresh, world-writable file of the kubelet's own
/// under <c>&lt;root&gt;/pods/&lt;uid&gt;/containers/&lt;name&gt;/&lt;attempt&gt;</c>, bind-mounted at the container's
/// <c>terminationMessagePath</c>; the container can write into it but never swap it for a link, so reading it back is
/// safe. When the container has exited, <c>state.terminated.message</c> is its content (at most 4 KiB, kubelet's
/// MaxContainerTerminationMessageLength); with <c>FallbackToLogsOnError</c> an empty file after a failure gives the
/// last 80 lines (at most 2 KiB) of the container's log instead. Each exited container is read once.
/// </summary>
public sealed class TerminationMessages(string podsRoot)
{
    public const int MaxMessage = 4096, MaxLogBytes = 2048, MaxLogLines = 80;
    private readonly ConcurrentDictionary<string, string?> _read = new(StringComparer.Ordinal);

    /// <summary>The mount for a container about to be created (none without a terminationMessagePath).</summary>
    public IEnumerable<VolumeMount> MountFor(V1Pod pod, V1Container container, uint attempt)
    {
        if (container.TerminationMessagePath is not { Length: > 0 } target)
        {
            return [];
        }
        // The UID and the container name are validated names (a DNS label and a UID), never paths.
        var dir = Path.Combine(podsRoot, pod.Metadata.Uid, "containers", container.Name);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.WriteAllBytes(file, []);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        return [new VolumeMount(file, target) { Name = "termination-log" }];
    }

    /// <summary>The message of an exited container, or null (running, nothing written, or no policy for it).</summary>
    public string? For(V1Pod pod, V1Container container, ContainerStatus exited)
    {
        if (exited.State != ContainerState.Exited || container.TerminationMessagePath is not { Length: > 0 })
        {
            return null;
        }
        return _read.GetOrAdd(exited.Id, _ =>
        {
            var file = Path.Combine(podsRoot, pod.Metadata.Uid, "containers", container.Name, exited.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var message = ReadCapped(file, MaxMessage);
            if (string.IsNullOrEmpty(message) && container.TerminationMessagePolicy == "FallbackToLogsOnError" && exited.ExitCode != 0)
            {
                message = LogTail(exited.LogPath);
            }
            return string.IsNullOrEmpty(message) ? null : message;
        });
    }

    /// <summary>Forgets what was read for the pod's containers (the pod is gone).</summary>
    public void ForgetPod(V1Pod pod, IEnumerable<string> containerIds)
    {
        foreach (var id in containerIds)
        {
            _read.TryRemove(id, out _);
        }
    }

    private static string? ReadCapped(string path, int max)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new byte[max];
            var n = f.ReadAtLeast(buffer, max, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The last <see cref="MaxLogLines"/> lines of a CRI log file's content, at most <see cref="MaxLogBytes"/>
    /// bytes (the end is kept).</summary>
    public static string? LogTail(string? logPath)
    {
        if (string.IsNullOrEmpty(logPath))
        {
            return null;
        }
        try
        {
            using var f = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            // Enough of the file's end for 80 lines of up to 2 KiB of content with their CRI prefixes.
            var start = Math.Max(0, f.Length - 64 * 1024);
            f.Seek(start, SeekOrigin.Begin);
            var raw = new byte[f.Length - start];
            var n = f.ReadAtLeast(raw, raw.Length, throwOnEndOfStream: false);
            var lines = Encoding.UTF8.GetString(raw, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (start > 0 && lines.Length > 0)
            {
                lines = lines[1..];  // the first one may be cut
            }
            var content = new StringBuilder();
            foreach (var line in lines)
            {
                // "TIMESTAMP STREAM TAG CONTENT"; TAG P is a partial line continued by the next entry.
                var parts = line.Split(' ', 4);
                if (parts.Length < 3)
                {
                    continue;
                }
                content.Append(parts.Length == 4 ? parts[3] : "");
                if (parts[2] != "P")
                {
                    content.Append('\n');
                }
            }
            var all = content.ToString().Split('\n');
            var tail = string.Join('\n', all.TakeLast(MaxLogLines + 1)).TrimStart('\n');
            var bytes = Encoding.UTF8.GetBytes(tail);
            return bytes.Length <= MaxLogBytes ? tail : Encoding.UTF8.GetString(bytes, bytes.Length - MaxLogBytes, MaxLogBytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
