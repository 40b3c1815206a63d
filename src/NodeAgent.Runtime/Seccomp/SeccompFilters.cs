using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NodeAgent.Cri;
using NodeAgent.Linux;

namespace NodeAgent.Runtime.Seccomp;

/// <summary>
/// The seccomp filter of each container, as containerd's CRI plugin chooses it (<c>GenerateSeccompSpecOpts</c>:
/// privileged or Unconfined → none; RuntimeDefault → the default profile for the container's capabilities;
/// Localhost → the profile file), compiled by libseccomp into the BPF program the shim installs.
/// <para>
/// Why compile here and not in the container's init (as runc does): compiling the default profile costs a few
/// milliseconds of libseccomp work per call, and the result depends only on the profile's bytes, the capabilities
/// and the platform. So the program is compiled once per distinct (profile content, capabilities) and kept; every
/// create writes the cached program into the bundle (<see cref="FileName"/>, a few KiB), and the AOT shim's init and
/// every exec only read it and call seccomp(2): no libseccomp in the shim, nothing compiled on the start path.
/// Figures in docs/benchmarks.md ("seccomp").
/// </para>
/// <para>
/// A Localhost profile is read beneath <c>&lt;root&gt;/seccomp</c> only (openat2 <c>RESOLVE_BENEATH</c>: a symlink
/// out of it fails), whatever path the kubelet composed; it is read on every create, so an edited file takes effect
/// for the next container as with containerd. Errors are containerd's texts, so the kubelet's
/// <c>CreateContainerError</c> message names the file.
/// </para>
/// </summary>
public sealed class SeccompFilters(string profileRoot, SeccompPlatform? platform = null)
{
    /// <summary>The program's file in the container's bundle.</summary>
    public const string FileName = "seccomp.bpf";

    /// <summary>Larger profile files are refused (the default profile is 13 KiB).</summary>
    public const int MaxProfileBytes = 1024 * 1024;

    private static readonly Lazy<byte[]> DefaultProfile = new(() =>
    {
        using var stream = typeof(SeccompFilters).Assembly.GetManifestResourceStream("NodeAgent.Runtime.Seccomp.RuntimeDefaultProfile.json")
            ?? throw new InvalidOperationException("the runtime's default seccomp profile is not embedded");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private readonly SeccompPlatform _platform = platform ?? SeccompPlatform.Current;
    private readonly ConcurrentDictionary<string, Lazy<SeccompProgram>> _programs = new(StringComparer.Ordinal);

    public string ProfileRoot { get; } = Path.GetFullPath(profileRoot);

    /// <summary>Distinct programs compiled so far (the cache's size), for tests and diagnostics.</summary>
    public int CompiledCount => _programs.Count;

    /// <summary>
    /// Writes the container's program into <paramref name="bundle"/> and returns its file name, or null when the
    /// container runs unconfined.
    /// </summary>
    /// <exception cref="RuntimeException">CreateContainerError: the profile cannot be read, decoded or compiled.</exception>
    public string? Write(string containerId, string bundle, ContainerSecurity security, IReadOnlyCollection<string> capabilities)
    {
        var program = ProgramFor(containerId, security, capabilities);
        if (program is null)
        {
            return null;
        }

        File.WriteAllBytes(Path.Combine(bundle, FileName), program.Instructions);
        return FileName;
    }

    /// <summary>The compiled program for a container, or null when it runs unconfined.</summary>
    public SeccompProgram? ProgramFor(string containerId, ContainerSecurity security, IReadOnlyCollection<string> capabilities)
    {
        var profile = security.Seccomp;
        if (security.Privileged)
        {
            return null;
        }

        if (profile.Type != SeccompProfileType.Localhost && !string.IsNullOrEmpty(profile.LocalhostRef))
        {
            throw Failed(containerId, "seccomp config invalid LocalhostRef must only be set if ProfileType is Localhost");
        }

        if (profile.Type == SeccompProfileType.Unconfined)
        {
            return null;
        }

        var (bytes, source) = profile.Type switch
        {
            SeccompProfileType.RuntimeDefault => (DefaultProfile.Value, "RuntimeDefault"),
            SeccompProfileType.Localhost => (ReadLocalhost(containerId, profile.LocalhostRef), profile.LocalhostRef!),
            _ => throw Failed(containerId, "seccomp unknown ProfileType"),
        };

        var caps = capabilities.Select(c => c.ToUpperInvariant()).Order(StringComparer.Ordinal).ToList();
        var key = Convert.ToHexStringLower(SHA256.HashData(bytes)) + "|" + string.Join(',', caps);
        var entry = _programs.GetOrAdd(key, _ => new Lazy<SeccompProgram>(() => Compile(containerId, bytes, source, caps)));
        try
        {
            return entry.Value;
        }
        catch
        {
            _programs.TryRemove(new KeyValuePair<string, Lazy<SeccompProgram>>(key, entry));
            throw;
        }
    }

    private SeccompProgram Compile(string containerId, byte[] bytes, string source, IReadOnlyList<string> caps)
    {
        SeccompProfileDocument document;
        try
        {
            document = JsonSerializer.Deserialize(bytes, SeccompJsonContext.Default.SeccompProfileDocument)
                ?? throw new JsonException("the profile is null");
        }
        catch (JsonException ex)
        {
            throw Failed(containerId, $"decoding seccomp profile failed \"{source}\": {ex.Message}");
        }

        try
        {
            return SeccompCompiler.Compile(SeccompProfileEvaluator.Evaluate(document, caps, _platform));
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException or LinuxException or InvalidOperationException)
        {
            throw Failed(containerId, $"seccomp profile \"{source}\": {ex.Message}");
        }
    }

    private byte[] ReadLocalhost(string containerId, string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw Failed(containerId, "cannot load seccomp profile \"\": open : no such file or directory");
        }

        var relative = Path.IsPathRooted(path) ? Path.GetRelativePath(ProfileRoot, path) : path;
        try
        {
            if (relative == "." || relative == ".." || relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            {
                throw new ArgumentException($"not beneath the seccomp profile directory {ProfileRoot}");
            }

            return FileBeneath.ReadAll(ProfileRoot, relative, MaxProfileBytes);
        }
        catch (LinuxException ex)
        {
            throw Failed(containerId, $"cannot load seccomp profile \"{path}\": open {path}: {GoErrorText(ex.Errno)}", ex);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidDataException or IOException)
        {
            throw Failed(containerId, $"cannot load seccomp profile \"{path}\": {ex.Message}", ex);
        }
    }

    /// <summary>An errno as Go's os package prints it (strerror, first letter lower-case), as containerd's messages carry it.</summary>
    private static string GoErrorText(int errno)
    {
        var text = LinuxException.Describe(errno);
        var named = text.LastIndexOf(" (", StringComparison.Ordinal);
        text = named > 0 ? text[..named] : text;
        return text.Length > 0 ? char.ToLowerInvariant(text[0]) + text[1..] : text;
    }

    /// <summary>containerd's wrapping of a spec option's error in CreateContainer.</summary>
    private static RuntimeException Failed(string containerId, string message, Exception? inner = null) =>
        new(RuntimeErrorKind.CreateContainerError, $"failed to generate container \"{containerId}\" spec: failed to generate spec: {message}", inner);
}
