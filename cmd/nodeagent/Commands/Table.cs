using NodeAgent.Cri;

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

    /// <summary>kubectl's human duration: 45s, 3m20s, 25m, 5h10m, 30h, 3d4h, 100d, 2y10d.</summary>
    public static string Duration(TimeSpan d)
    {
        var seconds = (long)d.TotalSeconds;
        if (seconds < -1)
        {
            return "<invalid>";
        }

        if (seconds < 0)
        {
            return "0s";
        }

        if (seconds < 120)
        {
            return $"{seconds}s";
        }

        var minutes = seconds / 60;
        if (minutes < 10)
        {
            return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        }

        if (minutes < 180)
        {
            return $"{minutes}m";
        }

        var hours = minutes / 60;
        if (hours < 8)
        {
            return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        }

        if (hours < 48)
        {
            return $"{hours}h";
        }

        if (hours < 24 * 8)
        {
            return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        }

        if (hours < 24 * 365 * 2)
        {
            return $"{hours / 24}d";
        }

        var years = hours / 24 / 365;
        return years < 8 ? $"{years}y{(hours / 24) % 365}d" : $"{years}y";
    }

    public static string Status(ContainerStatus c) => c.State switch
    {
        ContainerState.Running => "Up " + Duration(DateTimeOffset.UtcNow - (c.StartedAt ?? c.CreatedAt)),
        ContainerState.Exited => $"Exited ({c.ExitCode}) {Ago(c.FinishedAt ?? c.CreatedAt)}" + (c.Reason is "OOMKilled" or "StartError" ? " " + c.Reason : string.Empty),
        ContainerState.Created => "Created",
        _ => "Unknown",
    };
}
