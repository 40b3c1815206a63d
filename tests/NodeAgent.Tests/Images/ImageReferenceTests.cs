using NodeAgent.Images;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Images;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("busybox", "docker.io/library/busybox:latest", "busybox:latest")]
    [InlineData("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36")]
    [InlineData("library/busybox", "docker.io/library/busybox:latest", "busybox:latest")]
    [InlineData("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest")]
    [InlineData("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest")]
    [InlineData("user/app", "docker.io/user/app:latest", "user/app:latest")]
    [InlineData("localhost/busybox", "localhost/busybox:latest", "localhost/busybox:latest")]
    [InlineData("localhost:5000/a/b:v1", "localhost:5000/a/b:v1", "localhost:5000/a/b:v1")]
    [InlineData("registry:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "registry:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "registry:5000/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("quay.io/org/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "quay.io/org/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "quay.io/org/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("Registry.Example.com/app", "Registry.Example.com/app:latest", "Registry.Example.com/app:latest")]
    [InlineData("ghcr.io/org/app:1.2", "ghcr.io/org/app:1.2", "ghcr.io/org/app:1.2")]
    [InlineData("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest")]
    [InlineData("[::1]:5000/x:1", "[::1]:5000/x:1", "[::1]:5000/x:1")]
    [InlineData("localhost:5000", "docker.io/library/localhost:5000", "localhost:5000")] // a tag, not a registry
    [InlineData("a/b/c/d:e", "docker.io/a/b/c/d:e", "a/b/c/d:e")]
    [InlineData("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest")]
    public void NormalisesAsDockerDoes(string input, string normalised, string familiar)
    {
        var r = ImageReference.Parse(input);
        Assert.Equal(normalised, r.ToString());
        Assert.Equal(familiar, r.Familiar);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Busybox", "lowercase")]
    [InlineData("busybox:", "invalid tag")]
    [InlineData("busybox@sha256:abc", "invalid digest")]
    [InlineData("a//b", "invalid repository name")]
    [InlineData("busybox:bad tag", "invalid tag")]
    [InlineData("-x/y", "invalid repository name")]
    [InlineData("foo_bar.com/x", "invalid registry host")] // '.' makes it a host, '_' makes it an invalid one (as Docker)
    public void RejectsInvalidReferencesWithReason(string input, string reason)
    {
        var e = Assert.Throws<InvalidImageReferenceException>(() => ImageReference.Parse(input));
        Assert.Contains($"\"{input}\"", e.Message);
        Assert.Contains(reason, e.Message);
    }
}
