using System.Globalization;
using System.Text;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// The phases of a pod's start, in the order they are shown: <c>admission</c> (first seen by the kubelet to its first
/// sync), <c>image_pull</c> (image checks and pulls), <c>sandbox</c> (volumes, sandbox and its network),
/// <c>container_create</c>, <c>container_start</c>, <c>first_ready</c> (last container started to the pod Ready).
/// Also the text forms: the annotation <see cref="Annotation"/> on the read-only API's copy of a pod
/// (<c>admission=0.001250,sandbox=0.084000,…</c>, seconds) and the breakdown in a <c>Started</c> event.
/// </summary>
public static class PodStartPhases
{
    public const string Admission = "admission";
    public const string ImagePull = "image_pull";
    public const string Sandbox = "sandbox";
    public const string ContainerCreate = "container_create";
    public const string ContainerStart = "container_start";
    public const string FirstReady = "first_ready";

    /// <summary>Set only on the pods the kubelet's own <c>/pods</c> serves (never sent to the API server).</summary>
    public const string Annotation = "nodeagent.io/pod-start-phases";

    public static readonly IReadOnlyList<string> All = [Admission, ImagePull, Sandbox, ContainerCreate, ContainerStart, FirstReady];

    /// <summary>The annotation value: <c>phase=seconds</c> pairs, comma-separated, in <see cref="All"/>'s order.</summary>
    public static string Format(IEnumerable<KeyValuePair<string, TimeSpan>> phases)
    {
        var text = new StringBuilder();
        foreach (var (phase, duration) in phases)
        {
            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(phase).Append('=').Append(Math.Max(0, duration.TotalSeconds).ToString("0.000000", CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    /// <summary>Reads an annotation value; pairs that are not a known phase with a finite, non-negative number of
    /// seconds are skipped (the value comes over HTTP).</summary>
    public static IReadOnlyDictionary<string, TimeSpan> Parse(string? value)
    {
        var phases = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var pair in (value ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || !All.Contains(pair[..eq])
                || !double.TryParse(pair[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                || !double.IsFinite(seconds) || seconds < 0 || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
            {
                continue;
            }

            phases[pair[..eq]] = TimeSpan.FromSeconds(seconds);
        }

        return phases;
    }

    /// <summary>A duration for people: <c>850µs</c>, <c>12.3ms</c>, <c>1.204s</c>, <c>2m5s</c>.</summary>
    public static string Human(TimeSpan t)
    {
        if (t < TimeSpan.Zero)
        {
            t = TimeSpan.Zero;
        }

        return t.TotalMilliseconds < 1 ? $"{(int)t.TotalMicroseconds}µs"
            : t.TotalSeconds < 1 ? t.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + "ms"
            : t.TotalMinutes < 1 ? t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s"
            : $"{(int)t.TotalMinutes}m{t.Seconds}s";
    }
}
