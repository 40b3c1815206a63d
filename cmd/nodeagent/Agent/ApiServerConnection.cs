using NodeAgent.Kube.Config;
using NodeAgent.Kube.Http;
using NodeAgent.Kubelet.Agent;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// The node's connection to its API server, made from <c>--kubeconfig</c> (kubeconfig errors name the file and
/// field and stop the agent before anything runs, as kubelet's do). Null in standalone mode.
/// </summary>
internal sealed class ApiServerConnection : IDisposable
{
    private ApiServerConnection(KubeApiContext context) => Context = context;

    public KubeApiContext Context { get; }

    public static ApiServerConnection? Create(AgentOptions options)
    {
        if (options.KubeConfig is not { } path)
        {
            return null;
        }

        var config = KubeConfigLoader.LoadFile(path) with { UserAgent = "nodeagent", Qps = options.Kubelet.KubeApiQps, Burst = options.Kubelet.KubeApiBurst };
        return new ApiServerConnection(new KubeApiContext { Connection = new KubeApiConnection(config), KubeConfigPath = path });
    }

    public void Dispose() => Context.Connection.Dispose();
}
