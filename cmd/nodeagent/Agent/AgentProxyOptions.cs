using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Config;
using NodeAgent.Proxy;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The service proxy inside <c>nodeagent agent</c>, as k3s runs kube-proxy inside its agent: on whenever the agent
/// joins a cluster (<c>--kubeconfig</c>), off with <c>--disable-kube-proxy</c> (k3s' flag), tuned with
/// <c>--kube-proxy-arg NAME=VALUE</c> (repeatable, k3s' flag; any flag of <c>nodeagent proxy</c>). The proxy gets the
/// agent's kubeconfig, node name and, with the built-in bridge network, the pod CIDR as <c>--cluster-cidr</c>,
/// unless an argument says otherwise. The settings are resolved and checked before the agent starts, so a bad
/// argument stops the agent with the argument named, as a bad kube-proxy flag stops kube-proxy.
/// </summary>
internal static class AgentProxyOptions
{
    public static readonly Option<bool> DisableKubeProxy = new("--disable-kube-proxy")
    {
        Description = "Do not run the service proxy in the agent (it runs by default when --kubeconfig is given)",
    };

    public static readonly Option<string[]> KubeProxyArg = new("--kube-proxy-arg")
    {
        Description = "A flag for the agent's service proxy, as 'name=value' (e.g. proxy-mode=iptables); repeatable",
        AllowMultipleArgumentsPerToken = false,
    };

    public static void AddTo(Command agent)
    {
        agent.Options.Add(DisableKubeProxy);
        agent.Options.Add(KubeProxyArg);
    }

    /// <summary>The <c>--kube-proxy-arg</c> values by flag name (without dashes).</summary>
    /// <exception cref="KubeletConfigurationException">An argument that is not <c>name=value</c>, or a flag given twice.</exception>
    public static Dictionary<string, string> ParseArgs(IEnumerable<string> args)
    {
        var parsed = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = (eq < 0 ? arg : arg[..eq]).TrimStart('-');
            if (eq < 0 || name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                throw new KubeletConfigurationException($"--kube-proxy-arg \"{Printable(arg)}\": expected name=value, e.g. proxy-mode=iptables");
            }
            if (name is "cleanup")
            {
                throw new KubeletConfigurationException($"--kube-proxy-arg \"{Printable(arg)}\": --cleanup is a command of its own: run nodeagent proxy --cleanup");
            }
            if (!parsed.TryAdd(name, arg[(eq + 1)..]))
            {
                throw new KubeletConfigurationException($"--kube-proxy-arg \"{Printable(arg)}\": {name} is given twice");
            }
        }
        return parsed;
    }

    /// <summary>The proxy's settings for this agent, or null when the agent runs no proxy (standalone, or
    /// <c>--disable-kube-proxy</c>).</summary>
    /// <exception cref="KubeletConfigurationException">A bad <c>--kube-proxy-arg</c> value, naming it.</exception>
    public static ProxyConfig? Resolve(AgentOptions options, string nodeName, List<string> warnings)
    {
        if (options.KubeConfig is null || options.DisableKubeProxy)
        {
            return null;
        }
        var given = new Dictionary<string, string>(options.KubeProxyArgs, StringComparer.Ordinal);
        given.TryAdd("kubeconfig", options.KubeConfig);
        given.TryAdd("hostname-override", nodeName);
        if (options.NetworkPlugin == "bridge")
        {
            given.TryAdd("cluster-cidr", options.PodCidr);
        }
        try
        {
            return ProxyConfigResolver.Resolve(given, warnings);
        }
        catch (FormatException e)
        {
            throw new KubeletConfigurationException($"--kube-proxy-arg: {e.Message}");
        }
    }

    /// <summary>Registers the proxy's service when <paramref name="config"/> is set.</summary>
    public static void Register(IServiceCollection services, ProxyConfig? config)
    {
        if (config is not null)
        {
            services.AddHostedService(sp => new ProxyService(config, sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<TimeProvider>()));
        }
    }

    private static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
