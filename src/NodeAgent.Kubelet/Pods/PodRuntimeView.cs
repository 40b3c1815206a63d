using NodeAgent.Cri;

namespace NodeAgent.Kubelet.Pods;

/// <summary>What the runtime holds for one pod: its newest sandbox and every container attempt in it.</summary>
public sealed record PodRuntimeView(PodSandboxStatus? Sandbox, IReadOnlyList<ContainerStatus> Containers)
{
    public static PodRuntimeView Empty { get; } = new(null, []);

    /// <summary>Attempts of one container, newest first.</summary>
    public IReadOnlyList<ContainerStatus> Attempts(string name) =>
        Containers.Where(c => c.Name == name).OrderByDescending(c => c.Attempt).ThenByDescending(c => c.CreatedAt).ToList();
}
