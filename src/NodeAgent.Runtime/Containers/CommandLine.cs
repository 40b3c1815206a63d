using NodeAgent.Images;

namespace NodeAgent.Runtime.Containers;

/// <summary>
/// The OCI/CRI rules for combining the image ENTRYPOINT/CMD with the config's command/args: <c>command</c> replaces
/// ENTRYPOINT and drops CMD; <c>args</c> alone replaces CMD. Arguments are passed as given: <c>$(VAR)</c> expansion is
/// Kubernetes' and the kubelet applies it before it calls the runtime (docker, ctr and crictl pass arguments unchanged).
/// </summary>
public static class CommandLine
{
    public static List<string> Resolve(ImageConfig image, IReadOnlyList<string>? command, IReadOnlyList<string>? args)
    {
        if (command is { Count: > 0 })
        {
            return [.. command, .. args ?? []];
        }

        if (args is { Count: > 0 })
        {
            return [.. image.Entrypoint ?? [], .. args];
        }

        return [.. image.Entrypoint ?? [], .. image.Cmd ?? []];
    }
}
