using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// A pod's resolv.conf by dnsPolicy, as kubelet's dns configurer computes it: ClusterFirst (the cluster DNS servers,
/// the <c>&lt;ns&gt;.svc.&lt;domain&gt; svc.&lt;domain&gt; &lt;domain&gt;</c> search path then the node's, <c>ndots:5</c>),
/// Default (the node's resolv.conf), None (only dnsConfig), ClusterFirstWithHostNet; hostNetwork pods with
/// ClusterFirst get Default; ClusterFirst without cluster DNS falls back to Default with a warning. The pod's
/// dnsConfig is merged last.
/// </summary>
public sealed class PodDnsConfigurer(PodDnsOptions options)
{
    public const string MissingClusterDnsReason = "MissingClusterDNS";

    /// <summary>The DNS config, and a warning when kubelet would record a MissingClusterDNS event.</summary>
    public (DnsConfig Config, string? Warning) For(V1Pod pod)
    {
        var policy = pod.Spec.DnsPolicy ?? "ClusterFirst";
        var hostNetwork = pod.Spec.HostNetwork ?? false;
        var cluster = policy == "ClusterFirstWithHostNet" || (policy == "ClusterFirst" && !hostNetwork);
        string? warning = null;
        if (cluster && options.ClusterDns.Count == 0)
        {
            warning = $"pod {pod.Metadata.NamespaceProperty ?? "default"}/{pod.Metadata.Name}: kubelet does not have ClusterDNS IP configured and cannot create Pod using \"{policy}\" policy. Falling back to \"Default\" policy.";
            cluster = false;
        }

        DnsConfig config;
        if (policy == "None")
        {
            config = new DnsConfig();
        }
        else if (cluster)
        {
            var ns = pod.Metadata.NamespaceProperty ?? "default";
            var domain = options.ClusterDomain;
            config = new DnsConfig
            {
                Servers = options.ClusterDns,
                Searches = [.. new[] { $"{ns}.svc.{domain}", $"svc.{domain}", domain }.Concat(HostResolvConf().Searches).Distinct()],
                Options = ["ndots:5"],
            };
        }
        else
        {
            config = HostResolvConf();
        }

        return (Merge(config, pod.Spec.DnsConfig), warning);
    }

    /// <summary>Parses a resolv.conf: nameserver, search (and domain), options lines.</summary>
    public static DnsConfig ParseResolvConf(string text)
    {
        List<string> servers = [], searches = [], opts = [];
        foreach (var raw in text.Split('\n'))
        {
            var fields = raw.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || fields[0].StartsWith('#') || fields[0].StartsWith(';'))
            {
                continue;
            }

            switch (fields[0])
            {
                case "nameserver":
                    servers.Add(fields[1]);
                    break;
                case "search":
                case "domain":
                    // The last search or domain line wins, as in the resolver.
                    searches = [.. fields.Skip(1)];
                    break;
                case "options":
                    opts.AddRange(fields.Skip(1));
                    break;
            }
        }

        return new DnsConfig { Servers = servers, Searches = searches, Options = opts };
    }

    private DnsConfig HostResolvConf() =>
        string.IsNullOrEmpty(options.ResolvConf) || !File.Exists(options.ResolvConf) ? new DnsConfig() : ParseResolvConf(File.ReadAllText(options.ResolvConf));

    private static DnsConfig Merge(DnsConfig config, V1PodDNSConfig? pod)
    {
        if (pod is null)
        {
            return config;
        }

        var options = config.Options.ToDictionary(o => o.Split(':')[0], o => o);
        foreach (var o in pod.Options ?? [])
        {
            options[o.Name] = o.Value is null ? o.Name : $"{o.Name}:{o.Value}";
        }

        return new DnsConfig
        {
            Servers = [.. config.Servers.Concat(pod.Nameservers ?? []).Distinct()],
            Searches = [.. config.Searches.Concat(pod.Searches ?? []).Distinct()],
            Options = [.. options.Values],
        };
    }
}
