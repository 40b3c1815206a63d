using System.Reflection;

namespace NodeAgent.Cli.Agent;

/// <summary>The agent's version (Directory.Build.props) as node status reports it.</summary>
internal static class AgentVersion
{
    /// <summary>The Kubernetes minor release whose kubelet behaviour NodeAgent follows.</summary>
    public const string KubernetesRelease = "v1.32.0";

    public static string Version { get; } =
        (typeof(AgentVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0").Split('+')[0];

    /// <summary><c>kubeletVersion</c>: the release followed, with NodeAgent's version as semver build metadata.</summary>
    public static string KubeletVersion => $"{KubernetesRelease}+nodeagent.{Version}";
}
