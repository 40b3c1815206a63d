using System.Globalization;
using System.Text.RegularExpressions;

namespace NodeAgent.Linux;

/// <summary>
/// The iptables runner the network module and the service proxy share: <c>iptables-save</c> and one atomic
/// <c>iptables-restore --noflush</c> per call, in the node's namespace (<see cref="NodeCommand"/>). A refused restore
/// throws <see cref="IptablesRestoreException"/> naming the line iptables-restore reported, so callers can log the
/// offending rule; the kernel then still holds the previous rules (a restore is all or nothing). Every command runs
/// with one <see cref="IptablesBackend"/> (<c>iptables-nft*</c> or <c>iptables-legacy*</c>), the one the node uses
/// (<see cref="IptablesBackendDetector"/>): rules written with the other would sit in tables the node does not read.
/// </summary>
public sealed partial class Iptables(NodeCommand node, IptablesBackend? backend)
{
    /// <summary>With the system's <c>iptables</c> commands (whichever backend the alternatives point them to).</summary>
    public Iptables(NodeCommand node)
        : this(node, null)
    {
    }

    public NodeCommand Node { get; } = node;

    /// <summary>The backend every command uses; null: the system's default commands.</summary>
    public IptablesBackend? Backend { get; } = backend;

    private string Command(string tool) => Backend is { } b ? IptablesBackendDetector.Command(b, tool) : tool;

    /// <summary>The whole ruleset (or one table) as iptables-save prints it.</summary>
    public async Task<string> SaveAsync(string? table, CancellationToken cancellationToken)
    {
        var result = await Node.RunAsync(Command("iptables-save"), table is null ? [] : ["-t", table], null, null, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new IOException($"iptables-save{(table is null ? "" : " -t " + table)} failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        return result.Stdout;
    }

    /// <summary>The rules of one chain as <c>iptables -S</c> prints them (the <c>-A</c> lines in iptables-save's
    /// format, after a <c>-P</c> or <c>-N</c> line); only that chain is read.</summary>
    public async Task<string> ListChainAsync(string table, string chain, CancellationToken cancellationToken)
    {
        var result = await Node.RunAsync(Command("iptables"), ["-w", "5", "-t", table, "-S", chain], null, null, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new IOException($"iptables -t {table} -S {chain} failed (exit {result.ExitCode}): {result.Stderr.Trim()}");
        }

        return result.Stdout;
    }

    /// <summary>Applies <paramref name="rules"/> with <c>iptables-restore --noflush</c> (tables and chains not named keep
    /// their rules; a chain declared with <c>:NAME - [0:0]</c> is flushed), waiting up to 5 s for the xtables lock.</summary>
    public async Task RestoreAsync(string rules, CancellationToken cancellationToken)
    {
        var result = await Node.RunAsync(Command("iptables-restore"), ["--noflush", "-w", "5"], rules, null, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw IptablesRestoreException.From(result.ExitCode, result.Stderr, rules);
        }
    }

    /// <summary>The chain names declared in one table of an iptables-save output.</summary>
    public static HashSet<string> ChainsOf(string save, string table)
    {
        var chains = new HashSet<string>(StringComparer.Ordinal);
        var inTable = false;
        foreach (var line in save.Split('\n'))
        {
            if (line.StartsWith('*'))
            {
                inTable = line.AsSpan(1).TrimEnd().SequenceEqual(table);
            }
            else if (inTable && line.StartsWith(':'))
            {
                var end = line.IndexOf(' ');
                chains.Add(end < 0 ? line[1..] : line[1..end]);
            }
        }

        return chains;
    }

    internal static int? FailedLine(string stderr)
    {
        var match = LineNumber().Match(stderr);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    internal static string? QuotedName(string stderr)
    {
        var match = Quoted().Match(stderr);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex("'([^' ]+)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"line:? (\d+)")]
    private static partial Regex LineNumber();
}

/// <summary>iptables-restore refused its input: the exit code, its message and, when it named one, the offending line.</summary>
public sealed class IptablesRestoreException(string message, int exitCode, int? line, string? offendingLine) : IOException(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>The 1-based line of the input that iptables-restore reported, if it named one.</summary>
    public int? Line { get; } = line;

    public string? OffendingLine { get; } = offendingLine;

    internal static IptablesRestoreException From(int exitCode, string stderr, string rules)
    {
        var line = Iptables.FailedLine(stderr);
        var lines = rules.Split('\n');
        var offending = line is { } n && n >= 1 && n <= lines.Length ? lines[n - 1] : null;
        if (offending == "COMMIT" && Iptables.QuotedName(stderr) is { } name)
        {
            // The nf_tables backend finds some errors (a jump to a missing chain) only at COMMIT: the rule is the one
            // of that table naming what the message names.
            for (var i = line!.Value - 2; i >= 0 && !lines[i].StartsWith('*'); i--)
            {
                if (lines[i].StartsWith('-') && lines[i].Split(' ').Contains(name))
                {
                    (line, offending) = (i + 1, lines[i]);
                    break;
                }
            }
        }
        var message = $"iptables-restore failed (exit {exitCode}): {stderr.Trim()}" +
            (offending is null ? "" : $"; line {line}: {offending}");
        return new IptablesRestoreException(message, exitCode, line, offending);
    }
}
