using NodeAgent.Cri;
using NodeAgent.Runtime.Seccomp;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Runtime.Seccomp;

/// <summary>
/// The runtime's choice of filter, as containerd's <c>GenerateSeccompSpecOpts</c> and <c>WithProfile</c>: none for
/// privileged or Unconfined containers, the default profile compiled once per capability set, a Localhost file read
/// beneath the seccomp directory only, and containerd's error texts naming the file.
/// </summary>
public sealed class SeccompFiltersTests : IDisposable
{
    private const string Id = "0123456789abcdef0123456789abcdef";
    private static readonly string[] Caps = ["CHOWN", "SETUID", "SETGID"];

    private readonly TempDir _dir = new();
    private readonly string _root;
    private readonly SeccompFilters _filters;

    public SeccompFiltersTests()
    {
        _root = _dir.Combine("seccomp");
        Directory.CreateDirectory(_root);
        _filters = new SeccompFilters(_root);
    }

    private static ContainerSecurity With(SeccompProfile profile, bool privileged = false) => new() { Seccomp = profile, Privileged = privileged };

    private string Error(SeccompProfile profile) =>
        Assert.Throws<RuntimeException>(() => _filters.ProgramFor(Id, With(profile), Caps)) is { Kind: RuntimeErrorKind.CreateContainerError } e
            ? e.Message : throw new InvalidOperationException("not a CreateContainerError");

    [Fact]
    public void UnconfinedAndPrivilegedContainersGetNoFilter()
    {
        Assert.Null(_filters.ProgramFor(Id, With(SeccompProfile.Unconfined), Caps));
        Assert.Null(_filters.ProgramFor(Id, With(SeccompProfile.RuntimeDefault, privileged: true), Caps));
        Assert.Null(_filters.ProgramFor(Id, With(SeccompProfile.Localhost("/nowhere"), privileged: true), Caps));
        Assert.Equal(0, _filters.CompiledCount);
    }

    [Fact]
    public void TheDefaultProfileIsCompiledOncePerCapabilitySet()
    {
        var first = _filters.ProgramFor(Id, With(SeccompProfile.RuntimeDefault), Caps)!;
        var again = _filters.ProgramFor(Id, With(SeccompProfile.RuntimeDefault), [.. Caps.Reverse()])!;
        Assert.Same(first, again);
        Assert.Equal(1, _filters.CompiledCount);

        var admin = _filters.ProgramFor(Id, With(SeccompProfile.RuntimeDefault), [.. Caps, "SYS_ADMIN"])!;
        Assert.NotEqual(first.Instructions, admin.Instructions);
        Assert.Equal(2, _filters.CompiledCount);
    }

    [Fact]
    public void WriteLeavesTheProgramInTheBundleForTheShim()
    {
        var bundle = _dir.Combine("bundle");
        Directory.CreateDirectory(bundle);
        Assert.Equal(SeccompFilters.FileName, _filters.Write(Id, bundle, With(SeccompProfile.RuntimeDefault), Caps));
        Assert.Equal(_filters.ProgramFor(Id, With(SeccompProfile.RuntimeDefault), Caps)!.Instructions, File.ReadAllBytes(Path.Combine(bundle, SeccompFilters.FileName)));
        Assert.Null(_filters.Write(Id, bundle, With(SeccompProfile.Unconfined), Caps));
    }

    [Fact]
    public void ALocalhostProfileIsReadOnEveryCreateSoAnEditTakesEffect()
    {
        var path = Path.Combine(_root, "profiles", "deny.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}""");
        var first = _filters.ProgramFor(Id, With(SeccompProfile.Localhost(path)), Caps)!;
        File.WriteAllText(path, """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","rmdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}""");
        var edited = _filters.ProgramFor(Id, With(SeccompProfile.Localhost(path)), Caps)!;
        Assert.NotEqual(first.Instructions, edited.Instructions);
    }

    [Fact]
    public void AMissingLocalhostProfileFailsWithContainerdsMessageNamingTheFile()
    {
        var path = Path.Combine(_root, "profiles", "missing.json");
        Assert.Equal($"failed to generate container \"{Id}\" spec: failed to generate spec: cannot load seccomp profile \"{path}\": open {path}: no such file or directory",
            Error(SeccompProfile.Localhost(path)));
    }

    [Fact]
    public void AnUndecodableLocalhostProfileFailsNamingTheFile()
    {
        var path = Path.Combine(_root, "bad.json");
        File.WriteAllText(path, "{ not json");
        Assert.StartsWith($"failed to generate container \"{Id}\" spec: failed to generate spec: decoding seccomp profile failed \"{path}\": ", Error(SeccompProfile.Localhost(path)));
    }

    [Fact]
    public void ASymlinkOutOfTheSeccompDirectoryIsNotFollowed()
    {
        var outside = _dir.Combine("outside.json");
        File.WriteAllText(outside, """{"defaultAction":"SCMP_ACT_ALLOW"}""");
        File.CreateSymbolicLink(Path.Combine(_root, "escape.json"), outside);
        File.CreateSymbolicLink(Path.Combine(_root, "up"), "..");
        var escape = Path.Combine(_root, "escape.json");
        Assert.Contains("invalid cross-device link", Error(SeccompProfile.Localhost(escape)));
        Assert.Contains("invalid cross-device link", Error(SeccompProfile.Localhost(Path.Combine(_root, "up", "outside.json"))));
        Assert.Contains("not beneath the seccomp profile directory", Error(SeccompProfile.Localhost(Path.Combine(_root, "..", "outside.json"))));
        Assert.Contains("not beneath the seccomp profile directory", Error(SeccompProfile.Localhost(outside)));

        // A symlink that stays beneath is followed.
        File.Copy(outside, Path.Combine(_root, "real.json"));
        File.CreateSymbolicLink(Path.Combine(_root, "alias.json"), "real.json");
        Assert.NotNull(_filters.ProgramFor(Id, With(SeccompProfile.Localhost(Path.Combine(_root, "alias.json"))), Caps));
    }

    [Fact]
    public void ADirectoryOrAnOversizedFileIsNotAProfile()
    {
        Directory.CreateDirectory(Path.Combine(_root, "dir.json"));
        Assert.Contains("not a regular file", Error(SeccompProfile.Localhost(Path.Combine(_root, "dir.json"))));
        File.WriteAllBytes(Path.Combine(_root, "big.json"), new byte[SeccompFilters.MaxProfileBytes + 1]);
        Assert.Contains("larger than", Error(SeccompProfile.Localhost(Path.Combine(_root, "big.json"))));
    }

    [Fact]
    public void ALocalhostRefOnAnotherTypeIsContainerdsError() =>
        Assert.EndsWith("seccomp config invalid LocalhostRef must only be set if ProfileType is Localhost",
            Error(new SeccompProfile(SeccompProfileType.RuntimeDefault, "/x.json")));

    public void Dispose() => _dir.Dispose();
}
