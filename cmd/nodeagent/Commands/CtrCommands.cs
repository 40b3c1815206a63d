using System.CommandLine;
using System.Text.Json;
using NodeAgent.Runtime;
using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Cli.Commands;

/// <summary><c>nodeagent ctr</c>: run and manage containers directly, like runc or crictl.</summary>
internal static class CtrCommands
{
    public const string CtrLabel = "nodeagent.io/ctr";

    public static Command Build()
    {
        var ctr = new Command("ctr", "Run and manage containers directly on the runtime");
        ctr.Subcommands.Add(BuildRun());
        ctr.Subcommands.Add(BuildPs());
        ctr.Subcommands.Add(BuildInspect());
        ctr.Subcommands.Add(BuildStart());
        ctr.Subcommands.Add(BuildStop());
        ctr.Subcommands.Add(BuildRm());
        ctr.Subcommands.Add(BuildLogs());
        ctr.Subcommands.Add(CtrExecCommands.BuildExec());
        ctr.Subcommands.Add(CtrExecCommands.BuildAttach());
        return ctr;
    }

    /// <summary>
    /// Everything after IMAGE in <c>ctr run</c> (CONTAINER in <c>ctr exec</c>) is the container's command, as with
    /// <c>docker run</c> and <c>crictl exec</c>: insert <c>--</c> after it so that options of the command are not
    /// taken for ours.
    /// </summary>
    public static string[] SeparateRunCommand(string[] args)
    {
        var run = Array.FindIndex(args, a => a is "run" or "exec");
        if (run < 1 || args[run - 1] != "ctr" || args.Contains("--"))
        {
            return args;
        }

        string[] withValue = ["--name", "--root-dir", "--runtime-state-dir", "--pod-log-dir", "--cgroup-root", "--tail"];
        for (var i = run + 1; i < args.Length; i++)
        {
            if (withValue.Contains(args[i]))
            {
                i++;
                continue;
            }

            if (!args[i].StartsWith('-'))
            {
                return [.. args[..(i + 1)], "--", .. args[(i + 1)..]];
            }
        }

        return args;
    }

    private static Command BuildRun()
    {
        var rm = new Option<bool>("--rm") { Description = "Remove the container when it exits" };
        var detach = new Option<bool>("--detach", "-d") { Description = "Run in the background and print the container ID" };
        var name = new Option<string?>("--name") { Description = "Container name" };
        var seccomp = new Option<bool>("--seccomp") { Description = "Run under the runtime's default seccomp profile (RuntimeDefault), as containerd's ctr --seccomp" };
        var image = new Argument<string>("IMAGE") { Description = "Image reference" };
        var command = new Argument<string[]>("COMMAND") { Arity = ArgumentArity.ZeroOrMore, Description = "Command and arguments (replace the image CMD)" };
        var cmd = new Command("run", "Create and start a container; attached runs exit with the container's exit code");
        cmd.Options.Add(rm);
        cmd.Options.Add(detach);
        cmd.Options.Add(name);
        cmd.Options.Add(seccomp);
        cmd.Arguments.Add(image);
        cmd.Arguments.Add(command);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            var runtime = host.Runtime;
            var imageRef = pr.GetValue(image)!;
            var resolved = host.Images.Resolve(imageRef)
                ?? throw new InvalidOperationException($"image \"{imageRef}\" not found: import it with 'nodeagent images import FILE'");
            var containerName = pr.GetValue(name) ?? "ctr-" + NodeAgent.Linux.RandomIds.NewHex(4);
            if (runtime.ListContainers().Any(c => c.Name == containerName && c.Labels.ContainsKey(CtrLabel)))
            {
                throw new InvalidOperationException($"a container named \"{containerName}\" already exists");
            }

            var uid = Guid.NewGuid().ToString();
            var labels = new Dictionary<string, string> { [CtrLabel] = "true" };
            var sandboxId = await runtime.RunPodSandboxAsync(new PodSandboxConfig
            {
                Name = containerName,
                Namespace = "nodeagent-ctr",
                Uid = uid,
                Hostname = containerName,
                LogDirectory = Path.Combine(pr.GetValue(CommonOptions.LogRoot)!, $"nodeagent-ctr_{containerName}_{uid}"),
                CgroupParent = $"nodeagent/ctr-{uid}",
                Labels = labels,
            }, ct);

            string id;
            try
            {
                var args = pr.GetValue(command) ?? [];
                id = await runtime.CreateContainerAsync(sandboxId, new ContainerConfig
                {
                    Name = containerName,
                    Image = resolved.RepoTags.FirstOrDefault() ?? imageRef,
                    Args = args.Length > 0 ? args : null,
                    LogPath = $"{containerName}/0.log",
                    Labels = labels,
                    Security = new ContainerSecurity { Seccomp = pr.GetValue(seccomp) ? SeccompProfile.RuntimeDefault : SeccompProfile.Unconfined },
                }, ct);
                await runtime.StartContainerAsync(id, ct);
            }
            catch (Exception ex) when (ex is RuntimeException or IOException)
            {
                if (pr.GetValue(rm))
                {
                    await runtime.RemovePodSandboxAsync(sandboxId, CancellationToken.None);
                }

                throw;
            }

            if (pr.GetValue(detach))
            {
                Console.WriteLine(id);
                return 0;
            }

            var status = await Attach(runtime, id, ct);
            if (pr.GetValue(rm))
            {
                await runtime.RemovePodSandboxAsync(sandboxId, CancellationToken.None);
            }

            return status.ExitCode;
        }));
        return cmd;
    }

    private static async Task<ContainerStatus> Attach(LinuxRuntimeService runtime, string id, CancellationToken ct)
    {
        var status = runtime.ContainerStatus(id)!;
        using var stop = ct.Register(() => _ = runtime.StopContainerAsync(id, TimeSpan.FromSeconds(10), CancellationToken.None));
        await LogPrinter.FollowUntilExitAsync(status.LogPath, runtime.WaitContainerAsync(id, CancellationToken.None));
        return runtime.ContainerStatus(id)!;
    }

    private static Command BuildPs()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Show all containers, not only running ones" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Only print IDs" };
        var cmd = new Command("ps", "List containers");
        cmd.Options.Add(all);
        cmd.Options.Add(quiet);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(() =>
        {
            using var host = RuntimeComposition.Open(pr);
            var rows = host.Runtime.ListContainers()
                .Where(c => pr.GetValue(all) || c.State == ContainerState.Running)
                .OrderByDescending(c => c.CreatedAt)
                .ToList();
            if (pr.GetValue(quiet))
            {
                rows.ForEach(r => Console.WriteLine(r.Id[..12]));
                return Task.FromResult(0);
            }

            Table.Print(
                ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "NAME"],
                rows.Select(c => new[] { c.Id[..12], c.Image, Table.Quote(c.Command), Table.Ago(c.CreatedAt), Table.Status(c), c.Name }));
            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static Command BuildInspect()
    {
        var ids = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("inspect", "Show a container's status as JSON");
        cmd.Arguments.Add(ids);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(() =>
        {
            using var host = RuntimeComposition.Open(pr);
            foreach (var id in pr.GetValue(ids)!)
            {
                var status = host.Runtime.ContainerStatus(Find(host.Runtime, id))!;
                Console.WriteLine(JsonSerializer.Serialize(status, RuntimeJsonContext.Default.ContainerStatus));
            }

            return Task.FromResult(0);
        }));
        return cmd;
    }

    private static Command BuildStart()
    {
        var ids = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("start", "Start created containers (as crictl start); a container starts at most once");
        cmd.Arguments.Add(ids);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            foreach (var id in pr.GetValue(ids)!)
            {
                await host.Runtime.StartContainerAsync(Find(host.Runtime, id), ct);
                Console.WriteLine(id);
            }

            return 0;
        }));
        return cmd;
    }

    private static Command BuildStop()
    {
        var ids = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<int>("--time", "-t") { Description = "Seconds to wait after the stop signal before SIGKILL", DefaultValueFactory = _ => 10 };
        var cmd = new Command("stop", "Stop containers: the image's STOPSIGNAL (or SIGTERM), then SIGKILL after the grace period");
        cmd.Arguments.Add(ids);
        cmd.Options.Add(timeout);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            foreach (var id in pr.GetValue(ids)!)
            {
                var full = Find(host.Runtime, id);
                await host.Runtime.StopContainerAsync(full, TimeSpan.FromSeconds(pr.GetValue(timeout)), ct);
                Console.WriteLine(id);
            }

            return 0;
        }));
        return cmd;
    }

    private static Command BuildRm()
    {
        var ids = new Argument<string[]>("CONTAINER") { Arity = ArgumentArity.OneOrMore };
        var force = new Option<bool>("--force", "-f") { Description = "Kill a running container before removing it" };
        var cmd = new Command("rm", "Remove containers (and the sandbox 'ctr run' made for them)");
        cmd.Arguments.Add(ids);
        cmd.Options.Add(force);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            foreach (var id in pr.GetValue(ids)!)
            {
                var full = Find(host.Runtime, id);
                var status = host.Runtime.ContainerStatus(full)!;
                if (pr.GetValue(force))
                {
                    await host.Runtime.StopContainerAsync(full, TimeSpan.Zero, ct);
                }

                await host.Runtime.RemoveContainerAsync(full, ct);
                if (status.Labels.ContainsKey(CtrLabel))
                {
                    await host.Runtime.RemovePodSandboxAsync(status.SandboxId, ct);
                }

                Console.WriteLine(id);
            }

            return 0;
        }));
        return cmd;
    }

    private static Command BuildLogs()
    {
        var id = new Argument<string>("CONTAINER");
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the container exits" };
        var tail = new Option<int?>("--tail") { Description = "Only the last N lines" };
        var cmd = new Command("logs", "Print a container's stdout and stderr");
        cmd.Arguments.Add(id);
        cmd.Options.Add(follow);
        cmd.Options.Add(tail);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            using var host = RuntimeComposition.Open(pr);
            var full = Find(host.Runtime, pr.GetValue(id)!);
            var status = host.Runtime.ContainerStatus(full)!;
            var until = pr.GetValue(follow) ? host.Runtime.WaitContainerAsync(full, ct) : Task.CompletedTask;
            await LogPrinter.FollowUntilExitAsync(status.LogPath, until, pr.GetValue(tail));
            return 0;
        }));
        return cmd;
    }

    internal static string Find(LinuxRuntimeService runtime, string idOrName) =>
        runtime.FindContainer(idOrName) ?? throw new InvalidOperationException($"no such container: {idOrName}");
}
