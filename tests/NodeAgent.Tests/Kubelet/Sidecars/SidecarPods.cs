using k8s.Models;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Kubelet.Sidecars;

/// <summary>Pods with init containers and sidecars, and runtime attempts, for the pure sidecar tests.</summary>
internal static class SidecarPods
{
    /// <summary>A pod: init containers named with a leading <c>+</c> are sidecars (restartPolicy Always).</summary>
    public static V1Pod Pod(string restartPolicy, string[] inits, params string[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "p", Uid = "u" },
        Spec = new V1PodSpec
        {
            RestartPolicy = restartPolicy,
            InitContainers = inits.Select(n => new V1Container
            {
                Name = n.TrimStart('+'),
                Image = "busybox",
                RestartPolicy = n.StartsWith('+') ? "Always" : null,
            }).ToList(),
            Containers = (containers.Length == 0 ? ["app"] : containers).Select(n => new V1Container { Name = n, Image = "busybox" }).ToList(),
        },
    };

    public static ContainerStatus C(string name, ContainerState state, int exit = 0, uint attempt = 0) => new()
    {
        Id = $"{name}{attempt}".PadRight(64, '0'),
        SandboxId = "s",
        Name = name,
        Attempt = attempt,
        State = state,
        ExitCode = exit,
        Reason = state == ContainerState.Exited ? (exit == 0 ? "Completed" : "Error") : null,
        Image = "busybox",
        ImageId = "sha256:abc",
        LogPath = "/l",
        CreatedAt = DateTimeOffset.UnixEpoch.AddSeconds(attempt),
        StartedAt = DateTimeOffset.UnixEpoch.AddSeconds(attempt),
        FinishedAt = state == ContainerState.Exited ? DateTimeOffset.UnixEpoch.AddSeconds(attempt + 1) : null,
    };

    public static PodSandboxStatus Sandbox() => new()
    {
        Id = "s",
        State = SandboxState.Ready,
        Config = new PodSandboxConfig { Name = "p", Uid = "u", LogDirectory = "/l", CgroupParent = "kubepods/podu" },
    };
}
