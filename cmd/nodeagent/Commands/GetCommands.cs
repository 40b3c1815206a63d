using System.CommandLine;
using System.Text.Json;
using k8s;
using k8s.Models;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Cli.Commands;

/// <summary><c>nodeagent get pods</c>: the node's pods from the read-only API, printed as <c>kubectl get pods</c> does;
/// <c>-o timing</c> shows where each pod's start went (the <see cref="PodStartPhases.Annotation"/> the agent puts on
/// its own <c>/pods</c>).</summary>
internal static class GetCommands
{
    public static Command Build()
    {
        var get = new Command("get", "Show the node's objects as kubectl does");
        get.Subcommands.Add(BuildPods());
        return get;
    }

    private static Command BuildPods()
    {
        var server = new Option<string>("--server") { Description = "The agent's read-only API", DefaultValueFactory = _ => "http://127.0.0.1:10255" };
        var ns = new Option<string>("--namespace", "-n") { Description = "Only pods of this namespace", DefaultValueFactory = _ => "default" };
        var all = new Option<bool>("--all-namespaces", "-A") { Description = "Pods of every namespace" };
        var output = new Option<string?>("--output", "-o") { Description = "wide, json, name or timing (where each pod's start went)" };
        output.AcceptOnlyFromAmong("wide", "json", "name", "timing");
        var names = new Argument<string[]>("NAME") { Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("pods", "List pods") { Aliases = { "pod", "po" } };
        cmd.Options.Add(server);
        cmd.Options.Add(ns);
        cmd.Options.Add(all);
        cmd.Options.Add(output);
        cmd.Arguments.Add(names);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var url = pr.GetValue(server)!.TrimEnd('/') + "/pods";
            string body;
            using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
            {
                try
                {
                    body = await http.GetStringAsync(url, ct);
                }
                catch (HttpRequestException e)
                {
                    await Console.Error.WriteLineAsync($"nodeagent: cannot get pods from {url}: {e.Message} (is the agent running with --read-only-port?)");
                    return 1;
                }
            }

            var list = KubernetesJson.Deserialize<V1PodList>(body);
            var allNs = pr.GetValue(all);
            var wanted = pr.GetValue(names) ?? [];
            var pods = list.Items
                .Where(p => allNs || p.Metadata.NamespaceProperty == pr.GetValue(ns))
                .Where(p => wanted.Length == 0 || wanted.Contains(p.Metadata.Name))
                .ToList();
            foreach (var missing in wanted.Where(w => pods.All(p => p.Metadata.Name != w)))
            {
                await Console.Error.WriteLineAsync($"Error from server (NotFound): pods \"{missing}\" not found");
            }

            switch (pr.GetValue(output))
            {
                case "json":
                    var shown = wanted.Length == 1 && pods.Count == 1 ? KubernetesJson.Serialize(pods[0]) : KubernetesJson.Serialize(new V1PodList { ApiVersion = "v1", Kind = "List", Metadata = new V1ListMeta(), Items = pods });
                    using (var doc = JsonDocument.Parse(shown))
                    using (var stdout = Console.OpenStandardOutput())
                    using (var writer = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = true }))
                    {
                        doc.WriteTo(writer);
                    }

                    Console.WriteLine();

                    break;
                case "name":
                    foreach (var p in pods)
                    {
                        Console.WriteLine("pod/" + p.Metadata.Name);
                    }

                    break;
                case "timing":
                    PrintTiming(pods, allNs);
                    break;
                default:
                    if (pods.Count == 0 && wanted.Length == 0)
                    {
                        await Console.Error.WriteLineAsync(allNs ? "No resources found" : $"No resources found in {pr.GetValue(ns)} namespace.");
                        break;
                    }

                    PrintTable(pods, allNs, pr.GetValue(output) == "wide");
                    break;
            }

            return pods.Count == wanted.Distinct().Count() || wanted.Length == 0 ? 0 : 1;
        }));
        return cmd;
    }

    /// <summary>One row per pod: each start phase (<c>&lt;none&gt;</c> when not measured, e.g. a pod found running
    /// after an agent restart or still starting) and their sum.</summary>
    private static void PrintTiming(List<V1Pod> pods, bool namespaces)
    {
        var headers = new List<string>();
        if (namespaces)
        {
            headers.Add("NAMESPACE");
        }

        headers.AddRange(["NAME", "ADMISSION", "IMAGE PULL", "SANDBOX", "CONTAINER CREATE", "CONTAINER START", "FIRST READY", "TOTAL"]);
        Table.Print(headers, pods.Select(p =>
        {
            var phases = PodStartPhases.Parse(p.Metadata.Annotations is { } a && a.TryGetValue(PodStartPhases.Annotation, out var v) ? v : null);
            var row = new List<string>();
            if (namespaces)
            {
                row.Add(p.Metadata.NamespaceProperty);
            }

            row.Add(p.Metadata.Name);
            row.AddRange(PodStartPhases.All.Select(phase => phases.TryGetValue(phase, out var d) ? PodStartPhases.Human(d) : "<none>"));
            row.Add(phases.Count == 0 ? "<none>" : PodStartPhases.Human(phases.Values.Aggregate(TimeSpan.Zero, (a, b) => a + b)));
            return row.ToArray();
        }));
    }

    private static void PrintTable(List<V1Pod> pods, bool namespaces, bool wide)
    {
        var now = DateTime.UtcNow;
        var headers = new List<string>();
        if (namespaces)
        {
            headers.Add("NAMESPACE");
        }

        headers.AddRange(["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        if (wide)
        {
            headers.AddRange(["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]);
        }

        Table.Print(headers, pods.Select(p =>
        {
            var row = new List<string>();
            if (namespaces)
            {
                row.Add(p.Metadata.NamespaceProperty);
            }

            var row2 = PodPrinter.Row(p, now);
            row.AddRange([p.Metadata.Name, row2.Ready, row2.Status, row2.Restarts, row2.Age]);
            if (wide)
            {
                row.AddRange([p.Status?.PodIP ?? "<none>", p.Spec.NodeName ?? "<none>", "<none>", "<none>"]);
            }

            return row.ToArray();
        }));
    }
}
