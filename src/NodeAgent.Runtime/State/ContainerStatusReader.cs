using NodeAgent.Cri;
using NodeAgent.Runtime.Containers;
using NodeAgent.Runtime.Persistence;
using NodeAgent.Runtime.Supervision;

namespace NodeAgent.Runtime.State;

/// <summary>
/// Works out a container's status from its files (<c>state.json</c>, <c>exit.json</c>) and the kernel (is the shim
/// still that container's shim; OOM kills of its cgroup). Read when a container is loaded, started or has exited,
/// never per list.
/// </summary>
internal sealed class ContainerStatusReader(RuntimePaths paths, ContainerManager containers)
{
    public const string UnknownExitFile = "unknown-exit";

    public static ContainerStatus Created(ContainerRecord record) => Base(record) with { State = ContainerState.Created };

    public ContainerStatus Read(ContainerRecord record)
    {
        var dir = paths.Container(record.Id);
        var state = Bundle.ReadState(dir);
        var exit = Bundle.ReadExit(dir);
        var status = Base(record) with { StartedAt = state?.StartedAt, Pid = state?.Pid ?? 0 };
        if (exit is not null)
        {
            if (exit.StartError is not null)
            {
                return status with
                {
                    State = ContainerState.Exited, ExitCode = exit.ExitCode, FinishedAt = exit.ExitedAt,
                    Reason = "StartError", Message = exit.StartError,
                };
            }

            if (File.Exists(Path.Combine(dir, UnknownExitFile)))
            {
                return status with { State = ContainerState.Unknown, ExitCode = exit.ExitCode, FinishedAt = exit.ExitedAt, Reason = "Unknown", Message = "the container's shim ended without recording an exit status" };
            }

            var reason = exit.ExitCode == 0 ? "Completed" : "Error";
            if (exit.ExitCode == 128 + Signals.SIGKILL && containers.OomKills(record) > 0)
            {
                reason = "OOMKilled";
            }

            return status with { State = ContainerState.Exited, ExitCode = exit.ExitCode, FinishedAt = exit.ExitedAt, Reason = reason };
        }

        if (state is null)
        {
            return status with { State = ContainerState.Created };
        }

        return status with { State = ExitTracker.IsShimOf(state.ShimPid, dir) ? ContainerState.Running : ContainerState.Unknown };
    }

    private static ContainerStatus Base(ContainerRecord record) => new()
    {
        Id = record.Id,
        SandboxId = record.SandboxId,
        Name = record.Config.Name,
        Attempt = record.Config.Attempt,
        CreatedAt = record.CreatedAt,
        Image = record.ImageRef,
        ImageId = record.ImageId,
        LogPath = record.LogPath,
        Command = record.Command,
        Labels = record.Config.Labels,
        Annotations = record.Config.Annotations,
    };
}
