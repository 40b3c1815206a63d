using NodeAgent.Images;
using NodeAgent.Runtime.Containers;

namespace NodeAgent.Tests.Runtime;

/// <summary>the OCI/CRI rules for combining the image ENTRYPOINT/CMD with the container's command/args.</summary>
public class CommandLineTests
{
    private static readonly ImageConfig Image = new() { Entrypoint = ["/entry"], Cmd = ["--default"] };

    [Fact]
    public void NeitherCommandNorArgsRunsEntrypointAndCmd() =>
        Assert.Equal(["/entry", "--default"], CommandLine.Resolve(Image, null, null));

    [Fact]
    public void CommandReplacesEntrypointAndDropsCmd() =>
        Assert.Equal(["/bin/sh"], CommandLine.Resolve(Image, ["/bin/sh"], null));

    [Fact]
    public void ArgsAloneReplaceCmd() =>
        Assert.Equal(["/entry", "--flag"], CommandLine.Resolve(Image, null, ["--flag"]));

    [Fact]
    public void CommandAndArgsTogether() =>
        Assert.Equal(["/bin/echo", "hi"], CommandLine.Resolve(Image, ["/bin/echo"], ["hi"]));

    [Fact]
    public void ArgumentsArePassedAsGiven() =>
        // $(VAR) and $$ are Kubernetes' expansion, which the kubelet applies; the runtime runs what it is given.
        Assert.Equal(["sh", "-c", "echo $$ $(V)"], CommandLine.Resolve(Image, ["sh", "-c"], ["echo $$ $(V)"]));
}
