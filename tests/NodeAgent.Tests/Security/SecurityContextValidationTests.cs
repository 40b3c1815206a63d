using k8s.Models;
using NodeAgent.Kubelet.Config;

namespace NodeAgent.Tests.Security;

/// <summary>The API server's ValidateSecurityContext and validateSysctls rules the agent applies to the pods it runs.</summary>
public sealed class SecurityContextValidationTests
{
    private static V1Pod Pod(V1SecurityContext? sc = null, V1PodSecurityContext? podSc = null, bool? hostUsers = null) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "0a1b2c3d" },
        Spec = new V1PodSpec
        {
            HostUsers = hostUsers,
            SecurityContext = podSc,
            RestartPolicy = "Always",
            DnsPolicy = "ClusterFirst",
            Containers = [new V1Container { Name = "c", Image = "x", ImagePullPolicy = "Never", TerminationMessagePolicy = "File", SecurityContext = sc }],
        },
    };

    private static List<string> Errors(V1Pod pod) => [.. PodValidator.ValidateApiPod(pod).Select(e => $"{e.Field}: {e.Reason}")];

    [Fact]
    public void NoPrivilegeEscalationWithPrivilegedIsInvalid() =>
        Assert.Contains("spec.containers[0].securityContext: Invalid value: \"allowPrivilegeEscalation: false\": cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            Errors(Pod(new V1SecurityContext { AllowPrivilegeEscalation = false, Privileged = true })));

    [Fact]
    public void NoPrivilegeEscalationWithSysAdminIsInvalid() =>
        Assert.Contains("spec.containers[0].securityContext: Invalid value: \"allowPrivilegeEscalation: false\": cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN",
            Errors(Pod(new V1SecurityContext { AllowPrivilegeEscalation = false, Capabilities = new V1Capabilities { Add = ["CAP_SYS_ADMIN"] } })));

    [Fact]
    public void NoPrivilegeEscalationAloneIsValid() =>
        Assert.Empty(Errors(Pod(new V1SecurityContext { AllowPrivilegeEscalation = false, Capabilities = new V1Capabilities { Drop = ["ALL"] } })));

    [Fact]
    public void UnmaskedProcMountNeedsHostUsersFalse()
    {
        Assert.Contains("spec.containers[0].securityContext.procMount: Invalid value: \"Unmasked\": `hostUsers` must be false to use `Unmasked`",
            Errors(Pod(new V1SecurityContext { ProcMount = "Unmasked" })));
        Assert.Empty(Errors(Pod(new V1SecurityContext { ProcMount = "Unmasked" }, hostUsers: false)));
        Assert.Empty(Errors(Pod(new V1SecurityContext { ProcMount = "Default" })));
        Assert.Contains("spec.containers[0].securityContext.procMount: Unsupported value: \"Open\": supported values: \"Default\", \"Unmasked\"",
            Errors(Pod(new V1SecurityContext { ProcMount = "Open" })));
    }

    [Fact]
    public void SysctlNamesAreCheckedAndNotRepeated()
    {
        var errors = Errors(Pod(podSc: new V1PodSecurityContext
        {
            Sysctls = [new V1Sysctl { Name = "net.core.somaxconn", Value = "1" }, new V1Sysctl { Name = "net/core/somaxconn", Value = "2" }, new V1Sysctl { Name = "Bad..Name", Value = "3" }, new V1Sysctl { Name = "", Value = "4" }],
        }));
        Assert.Equal(
        [
            "spec.securityContext.sysctls[1].name: Duplicate value: \"net/core/somaxconn\"",
            "spec.securityContext.sysctls[2].name: Invalid value: \"Bad..Name\": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            "spec.securityContext.sysctls[3].name: Required value",
        ], errors);
    }
}
