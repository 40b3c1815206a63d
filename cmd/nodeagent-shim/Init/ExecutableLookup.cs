namespace NodeAgent.Shim;

/// <summary>Finds the program to exec the way runc does: a name with a slash is used as is, others are searched in PATH.</summary>
internal static class ExecutableLookup
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static string Resolve(IReadOnlyList<string> args, IReadOnlyList<string> env)
    {
        if (args.Count == 0 || string.IsNullOrEmpty(args[0]))
        {
            throw new InvalidOperationException("no command specified: the image has no ENTRYPOINT or CMD and the container no command");
        }

        var name = args[0];
        if (name.Contains('/'))
        {
            if (!File.Exists(name))
            {
                throw new FileNotFoundException($"exec: \"{name}\": stat {name}: no such file or directory");
            }

            return name;
        }

        var path = DefaultPath;
        foreach (var e in env)
        {
            if (e.StartsWith("PATH=", StringComparison.Ordinal))
            {
                path = e[5..];
            }
        }

        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"exec: \"{name}\": executable file not found in $PATH");
    }
}
