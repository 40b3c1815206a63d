using Microsoft.Win32.SafeHandles;

namespace NodeAgent.Shim;

/// <summary>
/// The init reports set-up failures on an inherited pipe; a successful exec closes it (close-on-exec) with nothing
/// written, so end-of-file without data means the container process is running.
/// </summary>
internal static class SyncPipe
{
    public static string? ReadAll(SafeFileHandle readEnd)
    {
        using var stream = new FileStream(readEnd, FileAccess.Read, 1);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        return text.Length == 0 ? null : text.Trim();
    }

    public static void Report(int fd, string message) =>
        NodeAgent.Linux.FileDescriptors.WriteAll(fd, System.Text.Encoding.UTF8.GetBytes(message));
}
