using System.CommandLine;
using NodeAgent.Images;
using NodeAgent.Registry;
using NodeAgent.Registry.Auth;
using NodeAgent.Registry.Config;

namespace NodeAgent.Cli.Commands;

/// <summary><c>nodeagent images pull</c> and <c>nodeagent images prune</c>: the agent's own pull and GC code, by hand.</summary>
internal static class ImagePullCommands
{
    /// <summary>k3s' <c>registries.yaml</c> equivalent; used when present and no <c>--registry-config</c> is given.</summary>
    public const string DefaultRegistryConfig = "/etc/agent/registries.yaml";

    public static Option<string?> RegistryConfigOption() => new("--registry-config")
    {
        Description = $"Node registry configuration (k3s registries.yaml format: mirrors, auth, TLS); default {DefaultRegistryConfig} when it exists",
    };

    /// <summary>Loads the registry config named by the option, or the default file when it exists.</summary>
    public static RegistryConfig LoadRegistryConfig(string? path)
    {
        if (path is null)
        {
            return File.Exists(DefaultRegistryConfig) ? RegistryConfigParser.Load(DefaultRegistryConfig) : RegistryConfig.Empty;
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"registry config {path}: no such file");
        }
        return RegistryConfigParser.Load(path);
    }

    public static Command BuildPull()
    {
        var reference = new Argument<string>("REF") { Description = "Image reference (busybox, ghcr.io/org/app:1.2, host:5000/x@sha256:…)" };
        var plainHttp = new Option<bool>("--plain-http") { Description = "Talk plain http to the registry" };
        var config = RegistryConfigOption();
        var creds = new Option<string?>("--creds") { Description = "Registry credentials as user:password" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "No progress on stderr" };
        var cmd = new Command("pull", "Pull an image from a registry (and unpack its layers)");
        cmd.Arguments.Add(reference);
        cmd.Options.Add(plainHttp);
        cmd.Options.Add(config);
        cmd.Options.Add(creds);
        cmd.Options.Add(quiet);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var store = RuntimeComposition.OpenImages(pr);
            using var puller = new ImagePuller(store, new OverlaySnapshotter(store), LoadRegistryConfig(pr.GetValue(config)));
            var request = new PullRequest
            {
                PlainHttp = pr.GetValue(plainHttp),
                Credentials = pr.GetValue(creds) is { } c ? RegistryCredentials.ParseUserPassword(c, "--creds") : null,
                Progress = pr.GetValue(quiet) ? null : new StderrProgress(),
            };
            var result = await puller.PullAsync(pr.GetValue(reference)!, request, ct);
            Console.WriteLine($"pulled {string.Join(", ", result.Image.RepoTags.Concat(result.Image.RepoDigests).Take(1))} ({result.Image.Id}), " +
                $"{result.Size} bytes ({result.Downloaded} downloaded) in {result.Duration.TotalSeconds:0.000} s");
            return 0;
        }));
        return cmd;
    }

    public static Command BuildPrune()
    {
        var cmd = new Command("prune", "Remove every image no container uses");
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            var gc = new ImageGarbageCollector(host.Images, () => host.Runtime.ListContainers().Select(c => c.ImageId).ToHashSet());
            var result = await gc.RemoveUnusedAsync(ct);
            foreach (var image in result.Removed)
            {
                Console.WriteLine($"removed {string.Join(", ", image.RepoTags.DefaultIfEmpty(image.Id))}");
            }
            Console.WriteLine($"freed {result.BytesFreed} bytes");
            return 0;
        }));
        return cmd;
    }

    /// <summary>One line per report on stderr (rewritten in place on a terminal).</summary>
    private sealed class StderrProgress : IProgress<PullProgress>
    {
        private readonly bool _tty = !Console.IsErrorRedirected;

        public void Report(PullProgress value)
        {
            if (_tty)
            {
                Console.Error.Write($"\r{value}\u001b[K" + (value.Completed ? "\n" : ""));
            }
            else
            {
                Console.Error.WriteLine(value);
            }
        }
    }
}
