using System.Globalization;
using k8s.Models;

namespace NodeAgent.Kubelet.Pods;

/// <summary>
/// The scheduler's NodeAffinity filter as kubelet re-checks it on admission: every <c>nodeSelector</c> label
/// matches, and when <c>requiredDuringSchedulingIgnoredDuringExecution</c> is set, at least one of its terms matches
/// (a term: all of its <c>matchExpressions</c> on labels and <c>matchFields</c> on <c>metadata.name</c>; operators
/// In, NotIn, Exists, DoesNotExist, Gt, Lt). A term with no requirements matches nothing, an unknown operator or a
/// Gt/Lt value that is not an integer makes its term fail, as in the scheduler.
/// </summary>
public static class NodeAffinity
{
    public static bool Matches(V1Pod pod, string nodeName, IDictionary<string, string> labels)
    {
        foreach (var (key, value) in pod.Spec?.NodeSelector ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var have) || have != value)
            {
                return false;
            }
        }

        var required = pod.Spec?.Affinity?.NodeAffinity?.RequiredDuringSchedulingIgnoredDuringExecution;
        if (required?.NodeSelectorTerms is not { } terms)
        {
            return true;
        }

        return terms.Any(t => t is not null && TermMatches(t, nodeName, labels));
    }

    private static bool TermMatches(V1NodeSelectorTerm term, string nodeName, IDictionary<string, string> labels)
    {
        var expressions = term.MatchExpressions ?? [];
        var fields = term.MatchFields ?? [];
        if (expressions.Count == 0 && fields.Count == 0)
        {
            return false;
        }

        return expressions.All(e => e is not null && Requirement(e, labels.TryGetValue(e.Key ?? "", out var v) ? v : null))
            && fields.All(f => f is not null && f.Key == "metadata.name" && f.OperatorProperty is "In" or "NotIn" && Requirement(f, nodeName));
    }

    private static bool Requirement(V1NodeSelectorRequirement r, string? value)
    {
        var values = r.Values ?? [];
        return r.OperatorProperty switch
        {
            "In" => value is not null && values.Contains(value),
            "NotIn" => value is null || !values.Contains(value),
            "Exists" => value is not null,
            "DoesNotExist" => value is null,
            "Gt" or "Lt" when values.Count == 1
                && long.TryParse(values[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var bound)
                && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var have)
                => r.OperatorProperty == "Gt" ? have > bound : have < bound,
            _ => false,
        };
    }
}
