using k8s.Models;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Config;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

/// <summary>
/// kubelet's <c>getSeccompProfile</c> (container field, then pod field, then <c>seccompDefault</c>) with Localhost
/// paths beneath <c>&lt;root-dir&gt;/seccomp</c>, and the API server's <c>validateSeccompProfileField</c>.
/// </summary>
public sealed class SeccompProfilesTests
{
    private static V1SeccompProfile Profile(string type, string? local = null) => new() { Type = type, LocalhostProfile = local };

    private static (V1Pod Pod, V1Container Container) Pod(V1SeccompProfile? pod, V1SeccompProfile? container)
    {
        var c = new V1Container { Name = "app", Image = "localhost/busybox:latest", SecurityContext = container is null ? null : new V1SecurityContext { SeccompProfile = container } };
        var p = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "p", NamespaceProperty = "default", Uid = "u" },
            Spec = new V1PodSpec { Containers = [c], SecurityContext = pod is null ? null : new V1PodSecurityContext { SeccompProfile = pod } },
        };
        return (p, c);
    }

    [Theory]
    [InlineData(false, SeccompProfileType.Unconfined)]
    [InlineData(true, SeccompProfileType.RuntimeDefault)]
    public void WithoutAFieldTheDefaultFollowsSeccompDefault(bool seccompDefault, SeccompProfileType expected)
    {
        var (pod, container) = Pod(null, null);
        Assert.Equal(new SeccompProfile(expected), new SeccompProfiles("/var/lib/nodeagent/seccomp", seccompDefault).For(pod, container));
    }

    [Fact]
    public void TheContainerFieldWinsOverThePodField()
    {
        var profiles = new SeccompProfiles("/var/lib/nodeagent/seccomp", seccompDefault: true);
        var (pod, container) = Pod(Profile("RuntimeDefault"), Profile("Unconfined"));
        Assert.Equal(SeccompProfile.Unconfined, profiles.For(pod, container));
        (pod, container) = Pod(Profile("Localhost", "profiles/a.json"), null);
        Assert.Equal(SeccompProfile.Localhost("/var/lib/nodeagent/seccomp/profiles/a.json"), profiles.For(pod, container));
        var config = profiles.Apply(pod, container, new ContainerConfig { Name = "app", Image = "i", LogPath = "app/0.log" });
        Assert.Equal(SeccompProfileType.Localhost, config.Security.Seccomp.Type);
    }

    [Fact]
    public void LocalhostWithoutAProfileIsKubeletsConfigError()
    {
        var (pod, container) = Pod(null, Profile("Localhost"));
        var e = Assert.Throws<ContainerConfigException>(() => new SeccompProfiles("/r/seccomp", false).For(pod, container));
        Assert.Equal("localhostProfile must be set if seccompProfile type is Localhost.", e.Message);
    }

    [Theory]
    [InlineData("Localhost", "profiles/ok.json", null, null)]
    [InlineData("RuntimeDefault", null, null, null)]
    [InlineData("Unconfined", null, null, null)]
    [InlineData("", null, "spec.containers[0].securityContext.seccompProfile.type", "Required value: type is required when seccompProfile is set")]
    [InlineData("Default", null, "spec.containers[0].securityContext.seccompProfile.type", "Unsupported value: \"Default\": supported values: \"Localhost\", \"RuntimeDefault\", \"Unconfined\"")]
    [InlineData("Localhost", null, "spec.containers[0].securityContext.seccompProfile.localhostProfile", "Required value: must be set when seccomp type is Localhost")]
    [InlineData("Localhost", "/etc/x.json", "spec.containers[0].securityContext.seccompProfile.localhostProfile", "Invalid value: \"/etc/x.json\": must be a relative path")]
    [InlineData("Localhost", "a/../../x.json", "spec.containers[0].securityContext.seccompProfile.localhostProfile", "Invalid value: \"a/../../x.json\": must not contain '..'")]
    [InlineData("RuntimeDefault", "x.json", "spec.containers[0].securityContext.seccompProfile.localhostProfile", "Invalid value: \"x.json\": can only be set when seccomp type is Localhost")]
    public void TheApiServersRulesForSeccompProfile(string type, string? local, string? field, string? reason)
    {
        var (pod, _) = Pod(null, Profile(type, local));
        var errors = PodValidator.ValidateApiPod(pod).Where(e => e.Field.Contains("seccompProfile", StringComparison.Ordinal)).ToList();
        if (field is null)
        {
            Assert.Empty(errors);
        }
        else
        {
            Assert.Equal((field, reason!), Assert.Single(errors));
        }

        // The same rules at the pod level.
        (pod, _) = Pod(Profile(type, local), null);
        Assert.Equal(errors.Count, PodValidator.ValidateApiPod(pod).Count(e => e.Field.StartsWith("spec.securityContext.seccompProfile", StringComparison.Ordinal)));
    }
}
