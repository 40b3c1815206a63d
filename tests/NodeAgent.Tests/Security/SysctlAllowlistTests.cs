using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Security;

/// <summary>
/// kubelet's sysctl admission (pkg/kubelet/sysctl: safe set, --allowed-unsafe-sysctls names and patterns, namespace
/// grouping, host namespaces), the API server's name rules and the runtime's last check before it writes a value.
/// </summary>
public sealed class SysctlAllowlistTests
{
    private static V1Pod Pod(bool hostNetwork = false, bool hostIpc = false, params (string Name, string Value)[] sysctls) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", Uid = "u" },
        Spec = new V1PodSpec
        {
            HostNetwork = hostNetwork,
            HostIPC = hostIpc,
            Containers = [new V1Container { Name = "c", Image = "x" }],
            SecurityContext = new V1PodSecurityContext { Sysctls = [.. sysctls.Select(s => new V1Sysctl { Name = s.Name, Value = s.Value })] },
        },
    };

    [Theory]
    [InlineData("kernel.shm_rmid_forced")]
    [InlineData("net.ipv4.ip_local_port_range")]
    [InlineData("net.ipv4.tcp_syncookies")]
    [InlineData("net.ipv4.ping_group_range")]
    [InlineData("net.ipv4.ip_unprivileged_port_start")]
    [InlineData("net.ipv4.ip_local_reserved_ports")]
    [InlineData("net.ipv4.tcp_keepalive_time")]
    [InlineData("net.ipv4.tcp_fin_timeout")]
    [InlineData("net.ipv4.tcp_keepalive_intvl")]
    [InlineData("net.ipv4.tcp_keepalive_probes")]
    [InlineData("net.ipv4.tcp_rmem")]
    [InlineData("net/ipv4/tcp_wmem")]
    public void TheSafeSetIsAdmittedByDefault(string name) =>
        Assert.Null(new SysctlAllowlist([]).Admit(Pod(sysctls: (name, "1"))));

    [Fact]
    public void AnUnsafeSysctlIsForbiddenUnlessAllowed()
    {
        var rejection = new SysctlAllowlist([]).Admit(Pod(sysctls: ("net.core.somaxconn", "1024")));
        Assert.Equal(("SysctlForbidden", "forbidden sysctl: \"net.core.somaxconn\" not allowlisted"), (rejection!.Reason, rejection.Message));
        Assert.Null(new SysctlAllowlist(["net.core.somaxconn"]).Admit(Pod(sysctls: ("net.core.somaxconn", "1024"))));
    }

    [Theory]
    [InlineData("kernel.msg*", "kernel.msgmax", true)]
    [InlineData("kernel.msg*", "kernel.shmmax", false)]
    [InlineData("net.*", "net.core.somaxconn", true)]
    [InlineData("net.ipv4.conf.*", "net/ipv4/conf/eth0.100/rp_filter", true)]
    [InlineData("fs.mqueue.*", "fs.mqueue.msg_max", true)]
    [InlineData("kernel.sem", "kernel.sem", true)]
    public void PatternsEndingInAStarAllowAPrefix(string pattern, string name, bool allowed) =>
        Assert.Equal(allowed, new SysctlAllowlist([pattern]).Check(name, false, false) is null);

    [Theory]
    [InlineData("net.ipv4.tcp_syncookies", true, false, "\"net.ipv4.tcp_syncookies\" not allowed with host net enabled")]
    [InlineData("kernel.shm_rmid_forced", false, true, "\"kernel.shm_rmid_forced\" not allowed with host ipc enabled")]
    [InlineData("kernel.shm_rmid_forced", true, false, null)]
    [InlineData("net.ipv4.tcp_syncookies", false, true, null)]
    public void HostNamespacesForbidTheirSysctls(string name, bool hostNetwork, bool hostIpc, string? why) =>
        Assert.Equal(why, new SysctlAllowlist([]).Check(name, hostNetwork, hostIpc));

    [Theory]
    [InlineData("vm.swappiness", "the sysctl \"vm.swappiness\" are not known to be namespaced")]
    [InlineData("kernel.*", "the sysctls \"kernel.*\" are not known to be namespaced")]
    [InlineData("Net.core", "sysctl \"Net.core\" must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$")]
    [InlineData("net..x", "sysctl \"net..x\" must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]$")]
    public void BadAllowedUnsafePatternsAreRefusedAsKubeletRefusesToStart(string pattern, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => new SysctlAllowlist([pattern])).Message);

    [Theory]
    [InlineData("net.ipv4.ip_forward", true)]
    [InlineData("net/ipv4/conf/eth0.100/rp_filter", true)]
    [InlineData("net.ipv4.", false)]
    [InlineData(".net", false)]
    [InlineData("net.ipv4.ip_forward\n", false)]
    [InlineData("net/../../etc", false)]
    [InlineData("NET.x", false)]
    public void NamesFollowTheApiServersRule(string name, bool valid) => Assert.Equal(valid, SysctlNames.IsValidName(name));

    [Theory]
    [InlineData("net/ipv4/conf/eth0.100/rp_filter", "net.ipv4.conf.eth0/100.rp_filter")]
    [InlineData("net.ipv4.ip_forward", "net.ipv4.ip_forward")]
    [InlineData("kernel", "kernel")]
    public void SlashNamesBecomeDotted(string name, string dotted) => Assert.Equal(dotted, SysctlNames.ToDotted(name));

    [Fact]
    public void TheDottedFormMapsBackToTheProcSysPath() =>
        Assert.Equal("net/ipv4/conf/eth0.100/rp_filter", NodeAgent.Linux.Sysctls.RelativePath("net.ipv4.conf.eth0/100.rp_filter"));

    [Theory]
    [InlineData("kernel.shm_rmid_forced", SysctlNamespace.Ipc)]
    [InlineData("kernel.msgmax", SysctlNamespace.Ipc)]
    [InlineData("kernel.sem", SysctlNamespace.Ipc)]
    [InlineData("fs.mqueue.queues_max", SysctlNamespace.Ipc)]
    [InlineData("net.core.somaxconn", SysctlNamespace.Net)]
    [InlineData("kernel.hostname", SysctlNamespace.Unknown)]
    [InlineData("kernel.semx", SysctlNamespace.Unknown)]
    public void NamespacesAreGroupedAsKubeletGroupsThem(string name, SysctlNamespace ns) => Assert.Equal(ns, SysctlNames.NamespaceOf(name));

    [Theory]
    [InlineData("net.ipv4.ip_local_port_range", "1024\t65000", false, false, null)]
    [InlineData("net.ipv4.tcp_syncookies", "1\n0", false, false, "sysctl net.ipv4.tcp_syncookies: the value must be at most 4096 printable ASCII characters")]
    [InlineData("net.ipv4.tcp_syncookies", "1\u00000", false, false, "sysctl net.ipv4.tcp_syncookies: the value must be at most 4096 printable ASCII characters")]
    [InlineData("net.ipv4.tcp_syncookies", "1", true, false, "sysctl net.ipv4.tcp_syncookies: not allowed with host net enabled")]
    [InlineData("kernel.msgmax", "1", false, true, "sysctl kernel.msgmax: not allowed with host ipc enabled")]
    [InlineData("vm.swappiness", "1", false, false, "sysctl vm.swappiness: not known to be namespaced")]
    [InlineData("net/../x", "1", false, false, "sysctl \"net/../x\": not a valid sysctl name")]
    public void TheRuntimeChecksEveryValueBeforeItWritesOne(string name, string value, bool hostNetwork, bool hostIpc, string? problem) =>
        Assert.Equal(problem, SysctlNames.CheckForSandbox(name, value, hostNetwork, hostIpc));

    [Fact]
    public void AnOverlongValueIsRefused() =>
        Assert.NotNull(SysctlNames.CheckForSandbox("net.ipv4.tcp_syncookies", new string('1', 4097), false, false));

    [Fact]
    public void SysctlAdmissionComesBeforeThePodCount()
    {
        var rejection = new PodAdmission(0).Admit(Pod(sysctls: ("kernel.hostname", "x")), []);
        Assert.Equal("SysctlForbidden", rejection!.Reason);
    }
}
