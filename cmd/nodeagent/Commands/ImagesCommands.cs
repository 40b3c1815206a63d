using System.CommandLine;

namespace NodeAgent.Cli.Commands;

/// <summary><c>nodeagent images</c>: import, list, remove, pull and prune images in the local store.</summary>
internal static class ImagesCommands
{
    public static Command Build()
    {
        var images = new Command("images", "Manage images in the local store");
        images.Subcommands.Add(BuildImport());
        images.Subcommands.Add(BuildList());
        images.Subcommands.Add(BuildRemove());
        images.Subcommands.Add(ImagePullCommands.BuildPull());
        images.Subcommands.Add(ImagePullCommands.BuildPrune());
        return images;
    }

    private static Command BuildImport()
    {
        var files = new Argument<string[]>("FILE") { Arity = ArgumentArity.OneOrMore, Description = "OCI archive, OCI layout directory or docker save archive" };
        var cmd = new Command("import", "Import images from archives");
        cmd.Arguments.Add(files);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var store = RuntimeComposition.OpenImages(pr);
            foreach (var file in pr.GetValue(files)!)
            {
                foreach (var image in await store.ImportAsync(file, ct))
                {
                    Console.WriteLine($"imported {string.Join(", ", image.RepoTags.DefaultIfEmpty(image.Id))} ({image.Id})");
                }
            }

            return 0;
        }));
        return cmd;
    }

    private static Command BuildList()
    {
        var cmd = new Command("ls", "List images");
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(() =>
        {
            var store = RuntimeComposition.OpenImages(pr);
            var rows = new List<string[]>();
            foreach (var image in store.List())
            {
                var id = image.Id.Replace("sha256:", string.Empty, StringComparison.Ordinal)[..12];
                var created = image.Created is { } c ? Table.Ago(c) : "";
                if (image.RepoTags.Count == 0)
                {
                    rows.Add(["<none>", "<none>", id, created, Size(image.Size)]);
                }

                foreach (var tag in image.RepoTags)
                {
                    var colon = tag.LastIndexOf(':');
                    rows.Add([tag[..colon], tag[(colon + 1)..], id, created, Size(image.Size)]);
                }
            }

            Table.Print(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], rows);
            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static Command BuildRemove()
    {
        var refs = new Argument<string[]>("IMAGE") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("rm", "Remove images");
        cmd.Arguments.Add(refs);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            foreach (var r in pr.GetValue(refs)!)
            {
                var image = host.Images.Resolve(r) ?? throw new InvalidOperationException($"image \"{r}\" not found");
                var users = host.Runtime.ListContainers().Where(c => c.ImageId == image.Id).Select(c => c.Name).ToList();
                if (users.Count > 0)
                {
                    throw new InvalidOperationException($"image \"{r}\" is used by container(s) {string.Join(", ", users)}: remove them first");
                }

                await host.Images.RemoveAsync(r, ct);
                Console.WriteLine($"removed {r}");
            }

            return 0;
        }));
        return cmd;
    }

    private static string Size(long bytes) =>
        bytes >= 1 << 30 ? $"{bytes / (double)(1 << 30):0.##}GB"
        : bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):0.##}MB"
        : bytes >= 1 << 10 ? $"{bytes / 1024.0:0.##}kB"
        : $"{bytes}B";
}
