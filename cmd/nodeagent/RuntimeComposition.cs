using System.CommandLine;
using NodeAgent.Cgroups;
using NodeAgent.Cli.Commands;
using NodeAgent.Images;
using NodeAgent.Runtime;

namespace NodeAgent.Cli;

/// <summary>The composition root for CLI verbs: the image store, snapshotter, cgroup driver and runtime on one root directory.</summary>
internal sealed class RuntimeComposition : IDisposable
{
    private RuntimeComposition(ImageStore images, LinuxRuntimeService runtime)
    {
        Images = images;
        Runtime = runtime;
    }

    public ImageStore Images { get; }

    public LinuxRuntimeService Runtime { get; }

    public static RuntimeComposition Open(ParseResult pr)
    {
        var root = pr.GetValue(CommonOptions.RootDir)!;
        var images = new ImageStore(root);
        var snapshotter = new OverlaySnapshotter(images);
        var cgroups = CgroupManagerFactory.Create(rootPrefix: pr.GetValue(CommonOptions.CgroupRoot)!);
        var runtime = new LinuxRuntimeService(new RuntimeOptions { RootDir = root, StateDir = pr.GetValue(CommonOptions.RuntimeStateDir) }, images, snapshotter, cgroups);
        return new RuntimeComposition(images, runtime);
    }

    public static ImageStore OpenImages(ParseResult pr) => new(pr.GetValue(CommonOptions.RootDir)!);

    public void Dispose() => Runtime.Dispose();
}
