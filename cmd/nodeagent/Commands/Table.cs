using NodeAgent.Runtime.Cri;

namespace NodeAgent.Cli.Commands;

/// <summary>Column output in the style of docker and kubectl.</summary>
internal static class Table
{
    public static void Print(IReadOnlyList<string> headers, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { headers.ToArray() };
        all.AddRange(rows);
        var widths = new int[headers.Count];
        foreach (var row in all)
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in all)
        {
            Console.WriteLine(string.Join("   ", row.Select((c, i) => i == row.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd());
        }
    }

    public static string Quote(IReadOnlyList<string> command)
    {
        var text = string.Join(' ', command);
        return "\"" + (text.Length > 30 ? text[..29] + "…" : text) + "\"";
    }

    public static string Ago(DateTimeOffset at) => Duration(DateTimeOffset.UtcNow - at) + " ago";

    public static string Duration(TimeSpan d) =>
        d.TotalSeconds < 60 ? $"{Math.Max(0, (int)d.TotalSeconds)}s"
        : d.TotalMinutes < 60 ? $"{(int)d.TotalMinutes}m"
        : d.TotalHours < 48 ? $"{(int)d.TotalHours}h"
        : $"{(int)d.TotalDays}d";

    public static string Status(ContainerStatus c) => c.State switch
    {
        ContainerState.Running => "Up " + Duration(DateTimeOffset.UtcNow - (c.StartedAt ?? c.CreatedAt)),
        ContainerState.Exited => $"Exited ({c.ExitCode}) {Ago(c.FinishedAt ?? c.CreatedAt)}" + (c.Reason is "OOMKilled" or "StartError" ? " " + c.Reason : string.Empty),
        ContainerState.Created => "Created",
        _ => "Unknown",
    };
}
