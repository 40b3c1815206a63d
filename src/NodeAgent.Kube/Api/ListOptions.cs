using System.Text;

namespace NodeAgent.Kube.Api;

/// <summary>The query of a list or watch (<c>metav1.ListOptions</c>).</summary>
public sealed record ListOptions
{
    public string? LabelSelector { get; init; }
    public string? FieldSelector { get; init; }
    public string? ResourceVersion { get; init; }

    /// <summary><c>NotOlderThan</c> or <c>Exact</c>; only with a resourceVersion.</summary>
    public string? ResourceVersionMatch { get; init; }
    public int? Limit { get; init; }
    public string? Continue { get; init; }
    public int? TimeoutSeconds { get; init; }
    public bool AllowWatchBookmarks { get; init; }

    internal string ToQuery(bool watch)
    {
        var sb = new StringBuilder();
        void Add(string key, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                sb.Append(sb.Length == 0 ? '?' : '&').Append(key).Append('=').Append(Uri.EscapeDataString(value));
            }
        }
        if (watch)
        {
            Add("watch", "true");
            Add("allowWatchBookmarks", AllowWatchBookmarks ? "true" : null);
        }
        Add("labelSelector", LabelSelector);
        Add("fieldSelector", FieldSelector);
        Add("resourceVersion", ResourceVersion);
        Add("resourceVersionMatch", ResourceVersionMatch);
        Add("limit", Limit is > 0 ? Limit.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        Add("continue", Continue);
        Add("timeoutSeconds", TimeoutSeconds is > 0 ? TimeoutSeconds.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
        return sb.ToString();
    }
}
