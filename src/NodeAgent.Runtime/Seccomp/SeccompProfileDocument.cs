using System.Text.Json.Serialization;

namespace NodeAgent.Runtime.Seccomp;

/// <summary>
/// A seccomp profile file: the OCI runtime-spec's <c>linux.seccomp</c> (what containerd reads for a Localhost
/// profile) with Docker's extensions (<c>archMap</c>, <c>name</c>, <c>includes</c>/<c>excludes</c> by capability,
/// architecture and kernel version), which the runtime's default profile uses too.
/// </summary>
public sealed class SeccompProfileDocument
{
    public string? DefaultAction { get; set; }

    public uint? DefaultErrnoRet { get; set; }

    public List<string>? Architectures { get; set; }

    public List<SeccompArchMap>? ArchMap { get; set; }

    public List<string>? Flags { get; set; }

    public string? ListenerPath { get; set; }

    public List<SeccompSyscallEntry?>? Syscalls { get; set; }
}

/// <summary>Docker's <c>archMap</c> entry: the native architecture and the ones its kernel also runs.</summary>
public sealed class SeccompArchMap
{
    public string? Architecture { get; set; }

    public List<string>? SubArchitectures { get; set; }
}

public sealed class SeccompSyscallEntry
{
    /// <summary>Docker's older single-name form; not together with <see cref="Names"/>.</summary>
    public string? Name { get; set; }

    public List<string>? Names { get; set; }

    public string? Action { get; set; }

    public uint? ErrnoRet { get; set; }

    public List<SeccompArgEntry>? Args { get; set; }

    public SeccompFilterCondition? Includes { get; set; }

    public SeccompFilterCondition? Excludes { get; set; }
}

public sealed class SeccompArgEntry
{
    public uint Index { get; set; }

    public ulong Value { get; set; }

    public ulong ValueTwo { get; set; }

    public string? Op { get; set; }
}

/// <summary>Docker's <c>includes</c>/<c>excludes</c>: capabilities of the container, Go architecture names
/// (<c>amd64</c>, <c>arm64</c>…) and a minimum kernel version.</summary>
public sealed class SeccompFilterCondition
{
    public List<string>? Caps { get; set; }

    public List<string>? Arches { get; set; }

    public string? MinKernel { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow, AllowTrailingCommas = false)]
[JsonSerializable(typeof(SeccompProfileDocument))]
internal sealed partial class SeccompJsonContext : JsonSerializerContext;
