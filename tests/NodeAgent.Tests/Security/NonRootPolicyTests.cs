using NodeAgent.Runtime.Containers;

namespace NodeAgent.Tests.Security;

/// <summary>kubelet's verifyRunAsNonRoot, message for message, with the image user read as containerd's ImageStatus reads it.</summary>
public sealed class NonRootPolicyTests
{
    private const string Pod = "web_default(u-1)";

    [Theory]
    [InlineData(false, null, "")]
    [InlineData(false, 0L, "")]
    [InlineData(true, 1000L, "")]
    [InlineData(true, 1000L, "root")]
    [InlineData(true, null, "1000")]
    [InlineData(true, null, "1000:0")]
    public void AllowedCases(bool runAsNonRoot, long? runAsUser, string imageUser) =>
        Assert.Null(NonRootPolicy.Check(Pod, "app", runAsNonRoot, runAsUser, imageUser));

    [Theory]
    [InlineData(0L, "1000", "container's runAsUser breaks non-root policy (pod: \"web_default(u-1)\", container: app)")]
    [InlineData(null, "", "container has runAsNonRoot and image will run as root (pod: \"web_default(u-1)\", container: app)")]
    [InlineData(null, null, "container has runAsNonRoot and image will run as root (pod: \"web_default(u-1)\", container: app)")]
    [InlineData(null, "0:1000", "container has runAsNonRoot and image will run as root (pod: \"web_default(u-1)\", container: app)")]
    [InlineData(null, "nginx", "container has runAsNonRoot and image has non-numeric user (nginx), cannot verify user is non-root (pod: \"web_default(u-1)\", container: app)")]
    [InlineData(null, "app:app", "container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: \"web_default(u-1)\", container: app)")]
    [InlineData(null, "4294967296", "container has runAsNonRoot and image has an invalid user id (4294967296). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive (pod: \"web_default(u-1)\", container: app)")]
    public void RefusedCasesHaveKubeletsMessages(long? runAsUser, string? imageUser, string message) =>
        Assert.Equal(message, NonRootPolicy.Check(Pod, "app", true, runAsUser, imageUser));

    [Fact]
    public void ThePodIsDescribedAsKubeletsFormatPod() =>
        Assert.Equal("web_default(u-1)", NonRootPolicy.Describe("web", "default", "u-1"));
}
