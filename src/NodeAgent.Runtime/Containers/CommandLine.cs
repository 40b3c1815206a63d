using NodeAgent.Images;

namespace NodeAgent.Runtime.Containers;

/// <summary>Kubernetes' entrypoint rules: <c>command</c> replaces ENTRYPOINT and drops CMD; <c>args</c> alone replaces CMD.</summary>
public static class CommandLine
{
    public static List<string> Resolve(ImageConfig image, IReadOnlyList<string>? command, IReadOnlyList<string>? args, Func<string, string?> lookup)
    {
        IEnumerable<string> Expand(IEnumerable<string> items) => items.Select(a => EnvExpansion.Expand(a, lookup));

        if (command is { Count: > 0 })
        {
            return [.. Expand(command), .. Expand(args ?? [])];
        }

        if (args is { Count: > 0 })
        {
            return [.. image.Entrypoint ?? [], .. Expand(args)];
        }

        return [.. image.Entrypoint ?? [], .. image.Cmd ?? []];
    }
}
