using System.CommandLine;
using Microsoft.Extensions.Logging;
using NodeAgent.Hosting;
using NodeAgent.Proxy;

namespace NodeAgent.Cli.Commands;

/// <summary>
/// <c>nodeagent proxy</c>: the service proxy alone, with kube-proxy's flags (and a KubeProxyConfiguration file through
/// <c>--config</c>; flags given on the command line win over the file). <c>--cleanup</c> removes the proxy's iptables
/// rules and exits. Everything but flag parsing lives in src/NodeAgent.Proxy (<see cref="ProxyConfigResolver"/>,
/// <see cref="ProxyHost"/>).
/// </summary>
internal static class ProxyCommand
{
    private static readonly (string Name, string Description)[] ValueFlags =
    [
        ("kubeconfig", "Path to a kubeconfig file with the proxy's credentials (in-cluster configuration without it)"),
        ("config", "Path to a KubeProxyConfiguration file (kubeproxy.config.k8s.io/v1alpha1)"),
        ("proxy-mode", "Which proxy mode to use: iptables (default) or userspace"),
        ("iptables-backend", "Which iptables to program: nft, legacy, or auto (default: the one the node's rules are in, as kube-proxy's iptables-wrapper decides)"),
        ("cluster-cidr", "The pods' CIDR: traffic to cluster IPs from outside it is masqueraded"),
        ("nodeport-addresses", "Comma-separated CIDRs of the node addresses NodePorts answer on (default: all)"),
        ("iptables-min-sync-period", "The minimum time between two syncs of the rules, e.g. 1s (default 1s)"),
        ("iptables-sync-period", "The most time between two syncs of the rules, e.g. 30s (default 30s)"),
        ("udp-timeout", "How long an idle UDP session is kept in userspace mode, e.g. 250ms (default 250ms)"),
        ("hostname-override", "The name of this node, if not the host name"),
        ("healthz-bind-address", "IP:port of /healthz and /livez (default 0.0.0.0:10256; empty disables)"),
        ("metrics-bind-address", "IP:port of /metrics (default 127.0.0.1:10249; empty disables)"),
        ("logging-format", "Log format: text (default) or json"),
    ];

    public static Command Build()
    {
        var cmd = new Command("proxy", "Run the service proxy (kube-proxy)");
        var values = ValueFlags.Select(f => new Option<string>("--" + f.Name) { Description = f.Description, Recursive = true }).ToList();
        var masqueradeAll = new Option<bool>("--masquerade-all") { Description = "SNAT all traffic sent through cluster IPs", Recursive = true };
        var cleanup = new Option<bool>("--cleanup") { Description = "Remove the proxy's iptables rules and chains (both modes), then exit" };
        foreach (var o in values)
        {
            cmd.Options.Add(o);
        }
        cmd.Options.Add(masqueradeAll);
        cmd.Options.Add(cleanup);
        var explain = new Command("explain", "Explain how this node serves one service: endpoints, what happens to a packet, the rules");
        var target = new Argument<string>("NAMESPACE/SERVICE");
        explain.Arguments.Add(target);
        explain.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            var config = ProxyConfigResolver.Resolve(Given(pr, values, masqueradeAll), []);
            using var loggers = LoggerFactory.Create(_ => { });
            Console.Write(await new ProxyHost(config, loggers).ExplainAsync(pr.GetValue(target)!, ct));
            return 0;
        }));
        cmd.Subcommands.Add(explain);
        cmd.SetAction((pr, ct) => CliErrors.RunAsync(async () =>
        {
            if (pr.GetValue(cleanup))
            {
                var removed = await ProxyHost.CleanupAsync(null, ProxyConfigResolver.Resolve(Given(pr, values, masqueradeAll), []).IptablesBackend, ct);
                Console.WriteLine(removed ? "removed the proxy's iptables rules and chains" : "no proxy iptables rules to remove");
                return 0;
            }

            var warnings = new List<string>();
            var config = ProxyConfigResolver.Resolve(Given(pr, values, masqueradeAll), warnings);
            var format = pr.GetValue(values.Single(o => o.Name == "--logging-format")) ?? "text";
            using var loggers = LoggerFactory.Create(b => b.AddAgentConsole(format).SetMinimumLevel(LogLevel.Information)
                .AddFilter("Microsoft.AspNetCore", LogLevel.Warning).AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning));
            var log = loggers.CreateLogger("config");
            foreach (var w in warnings)
            {
                log.LogWarning("{Warning}", w);
            }
            try
            {
                await new ProxyHost(config, loggers).RunAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Stopped (SIGTERM/SIGINT): the rules stay, as kube-proxy leaves them.
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>The flags given on the command line, by name without dashes.</summary>
    private static Dictionary<string, string> Given(ParseResult pr, List<Option<string>> values, Option<bool> masqueradeAll)
    {
        var given = values.Where(o => pr.GetResult(o) is { Implicit: false } && o.Name != "--logging-format")
            .ToDictionary(o => o.Name[2..], o => pr.GetValue(o) ?? "");
        if (pr.GetResult(masqueradeAll) is { Implicit: false })
        {
            given["masquerade-all"] = pr.GetValue(masqueradeAll) ? "true" : "false";
        }
        return given;
    }
}
