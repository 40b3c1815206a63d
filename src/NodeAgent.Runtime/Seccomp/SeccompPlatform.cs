using System.Runtime.InteropServices;

namespace NodeAgent.Runtime.Seccomp;

/// <summary>What a profile's architecture and kernel conditions are evaluated against: the native architecture in
/// libseccomp's spelling (<c>SCMP_ARCH_X86_64</c>), in Go's (<c>amd64</c>, as Docker's <c>includes.arches</c> use),
/// and the running kernel's version.</summary>
public sealed record SeccompPlatform(string NativeArch, string GoArch, Version Kernel)
{
    public static SeccompPlatform Current { get; } = Detect();

    private static SeccompPlatform Detect()
    {
        var (native, go) = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => ("SCMP_ARCH_X86_64", "amd64"),
            Architecture.Arm64 => ("SCMP_ARCH_AARCH64", "arm64"),
            Architecture.X86 => ("SCMP_ARCH_X86", "386"),
            Architecture.Arm => ("SCMP_ARCH_ARM", "arm"),
            Architecture.S390x => ("SCMP_ARCH_S390X", "s390x"),
            Architecture.Ppc64le => ("SCMP_ARCH_PPC64LE", "ppc64le"),
            Architecture.RiscV64 => ("SCMP_ARCH_RISCV64", "riscv64"),
            Architecture.LoongArch64 => ("SCMP_ARCH_LOONGARCH64", "loong64"),
            var other => ($"SCMP_ARCH_{other.ToString().ToUpperInvariant()}", other.ToString().ToLowerInvariant()),
        };
        return new SeccompPlatform(native, go, Environment.OSVersion.Version);
    }
}
