using NodeAgent.Cgroups;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Registry;
using NodeAgent.Cri;

namespace NodeAgent.Cli.Commands;

/// <summary>Turns the errors a command can meet into one clear line on stderr and an exit code.</summary>
internal static class CliErrors
{
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (Exception ex) when (ex is NodeAgent.Kubelet.Config.KubeletConfigurationException or NodeAgent.Kubelet.Node.NodeIdentityException or NodeAgent.Kube.Config.KubeConfigException or RuntimeException or ImageException or InvalidImageReferenceException or RegistryException or CgroupException or LinuxException or IOException or
            UnauthorizedAccessException or InvalidOperationException or FormatException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"nodeagent: {ex.Message}");
            return 125;
        }
    }
}
