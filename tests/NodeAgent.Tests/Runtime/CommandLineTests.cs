using NodeAgent.Images;
using NodeAgent.Runtime.Containers;

namespace NodeAgent.Tests.Runtime;

/// <summary>kubelet's rules for combining the image ENTRYPOINT/CMD with the container's command/args.</summary>
public class CommandLineTests
{
    private static readonly ImageConfig Image = new() { Entrypoint = ["/entry"], Cmd = ["--default"] };

    private static string? None(string _) => null;

    [Fact]
    public void NeitherCommandNorArgsRunsEntrypointAndCmd() =>
        Assert.Equal(["/entry", "--default"], CommandLine.Resolve(Image, null, null, None));

    [Fact]
    public void CommandReplacesEntrypointAndDropsCmd() =>
        Assert.Equal(["/bin/sh"], CommandLine.Resolve(Image, ["/bin/sh"], null, None));

    [Fact]
    public void ArgsAloneReplaceCmd() =>
        Assert.Equal(["/entry", "--flag"], CommandLine.Resolve(Image, null, ["--flag"], None));

    [Fact]
    public void CommandAndArgsTogether() =>
        Assert.Equal(["/bin/echo", "hi"], CommandLine.Resolve(Image, ["/bin/echo"], ["hi"], None));

    [Fact]
    public void CommandAndArgsAreExpanded() =>
        Assert.Equal(["echo", "v=1"], CommandLine.Resolve(Image, ["echo"], ["v=$(V)"], n => n == "V" ? "1" : null));

    [Fact]
    public void ImageValuesAreNotExpanded() =>
        Assert.Equal(["/e", "$(V)"], CommandLine.Resolve(new ImageConfig { Entrypoint = ["/e"], Cmd = ["$(V)"] }, null, null, _ => "x"));
}
