using System.Globalization;
using System.Text.Json.Nodes;
using NodeAgent.TestApiServer.Storage;

namespace NodeAgent.TestApiServer.Api;

/// <summary>
/// PodDisruptionBudgets (policy/v1) as the eviction subresource honours them: a pending or finished pod is evicted
/// regardless; a pod covered by more than one budget is refused (500, as the real server); with one budget, the
/// healthy (Ready, not terminating) pods it selects must stay at or above what <c>minAvailable</c> or
/// <c>maxUnavailable</c> (a number or a percentage of the selected pods) requires, else 429 with the real message.
/// The disruption controller's bookkeeping is computed on the spot instead of read from the budget's status.
/// </summary>
public sealed class DisruptionBudgets(ObjectStore store)
{
    public const string Violation = "Cannot evict pod as it would violate the pod's disruption budget.";

    public void CheckEviction(ResourceInfo pods, JsonObject pod)
    {
        var phase = pod["status"]?["phase"]?.ToString();
        if (phase is "Pending" or "Succeeded" or "Failed" || pod["metadata"]?["deletionTimestamp"] is not null)
        {
            return;
        }
        var ns = pod["metadata"]?["namespace"]?.ToString() ?? "";
        var (budgets, _) = store.List("policy/poddisruptionbudgets", ns, b => Selector(b)?.Matches(pod) == true);
        if (budgets.Count == 0)
        {
            return;
        }
        if (budgets.Count > 1)
        {
            throw new ApiError(500, "InternalError", "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.");
        }
        var budget = budgets[0].Parse();
        var selector = Selector(budget)!;
        var (selected, _) = store.List("pods", ns, p => selector.Matches(p) && p["status"]?["phase"]?.ToString() is not ("Succeeded" or "Failed"));
        var expected = selected.Count;
        var healthy = selected.Count(p => IsHealthy(p.Parse()));
        var spec = budget["spec"] as JsonObject ?? new JsonObject();
        int desired;
        if (spec["minAvailable"] is { } min)
        {
            desired = Scaled(min, expected);
        }
        else if (spec["maxUnavailable"] is { } max)
        {
            desired = Math.Max(0, expected - Scaled(max, expected));
        }
        else
        {
            desired = 0;
        }
        var allowed = IsHealthy(pod) ? healthy - desired >= 1 : healthy >= desired;
        if (!allowed)
        {
            var name = budget["metadata"]?["name"]?.ToString();
            var e = new ApiError(429, "TooManyRequests", Violation);
            e.Causes.Add(("DisruptionBudget", $"The disruption budget {name} needs {desired} healthy pods and has {healthy} currently", ""));
            throw e;
        }
    }

    private static bool IsHealthy(JsonObject pod) =>
        pod["metadata"]?["deletionTimestamp"] is null
        && (pod["status"]?["conditions"] as JsonArray ?? []).Any(c => c?["type"]?.ToString() == "Ready" && c["status"]?.ToString() == "True");

    /// <summary>An int-or-percent against <paramref name="total"/>, rounded up as the disruption controller does.</summary>
    private static int Scaled(JsonNode value, int total)
    {
        var text = value.ToString();
        if (text.EndsWith('%') && int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var percent))
        {
            return (int)Math.Ceiling(total * percent / 100.0);
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    /// <summary>The budget's label selector; an empty selector matches every pod in policy/v1; null when unusable.</summary>
    private static LabelSelector? Selector(JsonObject budget)
    {
        var selector = budget["spec"]?["selector"] as JsonObject;
        if (selector is null)
        {
            return null;
        }
        var terms = new List<string>();
        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            terms.Add($"{key}={value}");
        }
        foreach (var req in (selector["matchExpressions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            var key = req["key"]?.ToString() ?? "";
            var values = string.Join(",", (req["values"] as JsonArray ?? []).Select(v => v?.ToString()));
            terms.Add(req["operator"]?.ToString() switch
            {
                "In" => $"{key} in ({values})",
                "NotIn" => $"{key} notin ({values})",
                "Exists" => key,
                "DoesNotExist" => "!" + key,
                _ => throw ApiError.BadRequest($"PodDisruptionBudget {budget["metadata"]?["name"]}: unknown selector operator {req["operator"]}"),
            });
        }
        return LabelSelector.Parse(string.Join(",", terms));
    }
}
