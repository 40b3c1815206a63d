using NodeAgent.Linux;
using NodeAgent.Runtime.Seccomp;

namespace NodeAgent.Tests.Runtime.Seccomp;

/// <summary>
/// The profile format as Docker and containerd evaluate it (Docker's <c>setupSeccomp</c>, containerd's
/// <c>DefaultProfile</c>): architectures from <c>archMap</c>, rules kept or dropped by the container's capabilities,
/// the architecture and the kernel, errno defaults; and the runtime's default profile, which is containerd's.
/// </summary>
public sealed class SeccompProfileEvaluatorTests
{
    private static readonly SeccompPlatform Amd64 = new("SCMP_ARCH_X86_64", "amd64", new Version(6, 18));
    private static readonly string[] DockerDefaultCaps =
        ["CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE"];

    private static SeccompProfileDocument Parse(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<SeccompProfileDocument>(json, new System.Text.Json.JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    private static SeccompProfileDocument RuntimeDefault()
    {
        using var stream = typeof(SeccompFilters).Assembly.GetManifestResourceStream("NodeAgent.Runtime.Seccomp.RuntimeDefaultProfile.json")!;
        return System.Text.Json.JsonSerializer.Deserialize<SeccompProfileDocument>(stream, new System.Text.Json.JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
    }

    private static IEnumerable<SeccompRule> RulesFor(SeccompFilterSpec spec, string syscall) => spec.Rules.Where(r => r.Names.Contains(syscall));

    [Fact]
    public void RuntimeDefaultWithDockersCapabilitiesIsContainerdsProfile()
    {
        var spec = SeccompProfileEvaluator.Evaluate(RuntimeDefault(), DockerDefaultCaps, Amd64);
        Assert.Equal(SeccompAction.Errno(1), spec.DefaultAction); // EPERM
        Assert.Equal(["x86_64", "x86", "x32"], spec.Architectures);
        var allowed = spec.Rules.Where(r => r.Action == SeccompAction.Allow && r.Conditions.Count == 0).SelectMany(r => r.Names).ToHashSet();
        Assert.Contains("read", allowed);
        Assert.Contains("arch_prctl", allowed);
        Assert.Contains("chroot", allowed); // CAP_SYS_CHROOT is in Docker's default set
        Assert.Contains("ptrace", allowed); // kernel ≥ 4.8
        foreach (var denied in new[] { "unshare", "keyctl", "add_key", "request_key", "mount", "setns", "reboot", "bpf", "open_by_handle_at" })
        {
            Assert.DoesNotContain(denied, allowed);
        }

        // clone without namespace flags only, clone3 ENOSYS (so libcs fall back to clone); socket except AF_VSOCK and AF_ALG.
        var clone = Assert.Single(RulesFor(spec, "clone"));
        Assert.Equal(new SeccompCondition(0, SeccompOperator.MaskedEqual, 0x7E020000, 0), Assert.Single(clone.Conditions));
        Assert.Equal(SeccompAction.Errno(38), Assert.Single(RulesFor(spec, "clone3")).Action);
        Assert.Equal(3, RulesFor(spec, "socket").Count());
        Assert.Equal(5, RulesFor(spec, "personality").Count());
    }

    [Fact]
    public void CapSysAdminAllowsItsSyscallsAndUnconditionalClone()
    {
        var spec = SeccompProfileEvaluator.Evaluate(RuntimeDefault(), [.. DockerDefaultCaps, "SYS_ADMIN"], Amd64);
        var allowed = spec.Rules.Where(r => r.Action == SeccompAction.Allow && r.Conditions.Count == 0).SelectMany(r => r.Names).ToHashSet();
        Assert.Contains("unshare", allowed);
        Assert.Contains("mount", allowed);
        Assert.Contains("clone", allowed);
        Assert.Contains("clone3", allowed);
        Assert.DoesNotContain(spec.Rules, r => r.Action == SeccompAction.Errno(38));
        Assert.DoesNotContain(spec.Rules, r => r.Names.Contains("clone") && r.Conditions.Count > 0);
    }

    [Fact]
    public void ArchitecturesKernelAndCapabilitiesSelectRules()
    {
        var doc = Parse("""
            {"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[
              {"names":["a"],"action":"SCMP_ACT_ERRNO","includes":{"arches":["arm64"]}},
              {"names":["b"],"action":"SCMP_ACT_ERRNO","excludes":{"arches":["amd64"]}},
              {"names":["c"],"action":"SCMP_ACT_ERRNO","includes":{"minKernel":"7.0"}},
              {"names":["d"],"action":"SCMP_ACT_ERRNO","excludes":{"minKernel":"5.4"}},
              {"names":["e"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_NET_ADMIN","CAP_SYS_TIME"]}},
              {"names":["f"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_NET_ADMIN"]}},
              {"name":"g","action":"SCMP_ACT_ERRNO","errnoRet":95,"excludes":{"caps":["CAP_SYS_TIME"]}},
              {"names":["h"],"action":"SCMP_ACT_KILL_PROCESS"}
            ]}
            """);
        var spec = SeccompProfileEvaluator.Evaluate(doc, ["NET_ADMIN"], Amd64);
        Assert.Equal(["f", "g", "h"], spec.Rules.SelectMany(r => r.Names));
        Assert.Equal([SeccompAction.Errno(1), SeccompAction.Errno(95), SeccompAction.KillProcess], spec.Rules.Select(r => r.Action));
        Assert.Equal(["x86_64"], spec.Architectures);
    }

    [Theory]
    [InlineData("""{"syscalls":[]}""", "no defaultAction")]
    [InlineData("""{"defaultAction":"SCMP_ACT_MAYBE"}""", "unknown action \"SCMP_ACT_MAYBE\"")]
    [InlineData("""{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}""", "use either 'architectures' or 'archMap'")]
    [InlineData("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ERRNO"}]}""", "use either 'name' or 'names'")]
    [InlineData("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}""", "unknown operator")]
    [InlineData("""{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["a"],"action":"SCMP_ACT_NOTIFY"}]}""", "SCMP_ACT_NOTIFY is not supported")]
    [InlineData("""{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"]}""", "flags are not supported")]
    [InlineData("""{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":70000}""", "out of range")]
    public void ProfilesThisRuntimeCannotApplyAreRefusedWithTheReason(string json, string reason)
    {
        var e = Assert.Throws<InvalidDataException>(() => SeccompProfileEvaluator.Evaluate(Parse(json), [], Amd64));
        Assert.Contains(reason, e.Message);
    }
}
