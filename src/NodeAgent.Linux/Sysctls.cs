using System.Text;

namespace NodeAgent.Linux;

/// <summary>
/// Writes kernel parameters through <c>/proc/sys</c>. Namespaced parameters (<c>net.*</c>, the IPC ones) take the
/// namespace of the calling thread, so a thread that has joined (or made) a pod's namespaces writes the pod's, never
/// the host's. The caller validates name and value; the file is opened beneath <c>/proc/sys</c> without following
/// any symlink.
/// </summary>
public static class Sysctls
{
    public const string Root = "/proc/sys";

    /// <summary>The path below <c>/proc/sys</c> of a sysctl name in dotted form (<c>net.ipv4.ip_forward</c> →
    /// <c>net/ipv4/ip_forward</c>); a <c>/</c> in the dotted form (an interface name with a dot, written with
    /// slashes by the user) becomes a <c>.</c>.</summary>
    public static string RelativePath(string dottedName) =>
        string.Create(dottedName.Length, dottedName, static (span, name) =>
        {
            for (var i = 0; i < name.Length; i++)
            {
                span[i] = name[i] switch { '.' => '/', '/' => '.', var c => c };
            }
        });

    /// <summary>Writes <paramref name="value"/> to the sysctl <paramref name="dottedName"/> in the calling thread's namespaces.</summary>
    /// <exception cref="LinuxException">The parameter does not exist here (ENOENT) or the kernel refused the value (EINVAL…).</exception>
    public static unsafe void Write(string dottedName, string value)
    {
        var relative = RelativePath(dottedName);
        using var handle = PathBeneath.OpenForWriting(Root, relative);
        var bytes = Encoding.ASCII.GetBytes(value);
        fixed (byte* p = bytes)
        {
            // One write: the kernel parses a sysctl value from a single write at offset 0.
            var written = Tmds.Linux.LibC.write((int)handle.DangerousGetHandle(), p, bytes.Length);
            if (written < 0)
            {
                throw new LinuxException("write", $"{Root}/{relative}", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            }
        }
    }
}
