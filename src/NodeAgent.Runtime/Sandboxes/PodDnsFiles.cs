using System.Text;
using NodeAgent.Cri;

namespace NodeAgent.Runtime.Sandboxes;

/// <summary>The pod's <c>/etc/resolv.conf</c> and <c>/etc/hosts</c>, in the shape kubelet writes them.</summary>
public static class PodDnsFiles
{
    /// <summary>resolv.conf from the pod's DNS config; without one, the node's file unchanged.</summary>
    public static string ResolvConf(DnsConfig? dns, string hostResolvConf = "/etc/resolv.conf")
    {
        if (dns is null)
        {
            return File.Exists(hostResolvConf) ? File.ReadAllText(hostResolvConf) : string.Empty;
        }

        var sb = new StringBuilder();
        foreach (var server in dns.Servers)
        {
            sb.Append("nameserver ").Append(server).Append('\n');
        }

        if (dns.Searches.Count > 0)
        {
            sb.Append("search ").AppendJoin(' ', dns.Searches).Append('\n');
        }

        if (dns.Options.Count > 0)
        {
            sb.Append("options ").AppendJoin(' ', dns.Options).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>
    /// The managed hosts file: localhost entries, the pod's addresses with its FQDN and hostname (127.0.1.1 when it
    /// has none, as for hostNetwork pods), then the hostAliases.
    /// </summary>
    public static string Hosts(string hostname, string? fqdn, IReadOnlyList<string> podIps, IReadOnlyList<HostAlias> aliases)
    {
        var sb = new StringBuilder("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
            .Append("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n");
        var names = string.IsNullOrEmpty(fqdn) || fqdn == hostname ? hostname : $"{fqdn}\t{hostname}";
        if (podIps.Count == 0)
        {
            sb.Append("127.0.1.1\t").Append(names).Append('\n');
        }

        foreach (var ip in podIps)
        {
            sb.Append(ip).Append('\t').Append(names).Append('\n');
        }

        if (aliases.Count > 0)
        {
            sb.Append("\n# Entries added by HostAliases.\n");
            foreach (var alias in aliases)
            {
                sb.Append(alias.Ip).Append('\t').AppendJoin('\t', alias.Hostnames).Append('\n');
            }
        }

        return sb.ToString();
    }
}
