using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace NodeAgent.Server.Logs;

/// <summary>
/// kubelet's <c>v1.PodLogOptions</c> from a <c>/containerLogs</c> query: <c>follow</c>, <c>previous</c>,
/// <c>timestamps</c>, <c>tailLines</c> (and the old <c>tail</c>, <c>all</c> meaning no limit), <c>limitBytes</c>,
/// <c>sinceSeconds</c>, <c>sinceTime</c>. Undecodable values are kubelet's 400, values that fail
/// ValidatePodLogOptions its 422. Absurd sizes are bounded rather than refused: a tail beyond
/// <see cref="int.MaxValue"/> lines is all of them, a <c>sinceSeconds</c> before the epoch is the whole log.
/// </summary>
public sealed record ContainerLogQuery
{
    public bool Follow { get; init; }

    public bool Previous { get; init; }

    public bool Timestamps { get; init; }

    public int? TailLines { get; init; }

    public long? LimitBytes { get; init; }

    public DateTimeOffset? Since { get; init; }

    /// <summary>The query, or the status and body kubelet answers a bad one with.</summary>
    public static (ContainerLogQuery? Query, int Status, string Error) Parse(IQueryCollection query, DateTimeOffset now)
    {
        const string undecodable = """{"message": "Unable to decode query."}""";
        const string invalid = """{"message": "Invalid request."}""";
        bool? Bool(string name)
        {
            var v = query[name].ToString();
            return v.Length == 0 ? false : bool.TryParse(v, out var b) ? b : v is "1" ? true : v is "0" ? false : null;
        }

        long? Long(string name, out bool bad)
        {
            bad = false;
            var v = query[name].ToString();
            if (v.Length == 0)
            {
                return null;
            }

            if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                return n;
            }

            // A number too large for int64 is not decodable for the API server either.
            bad = true;
            return null;
        }

        var follow = Bool("follow");
        var previous = Bool("previous");
        var timestamps = Bool("timestamps");
        var tailText = query["tail"].ToString();
        long? tail;
        bool badTail;
        if (tailText.Length > 0)
        {
            badTail = false;
            tail = tailText == "all" ? null : long.TryParse(tailText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var t) ? t : null;
            badTail = tailText != "all" && tail is null;
        }
        else
        {
            tail = Long("tailLines", out badTail);
        }

        var limit = Long("limitBytes", out var badLimit);
        var sinceSeconds = Long("sinceSeconds", out var badSince);
        DateTimeOffset? sinceTime = null;
        var sinceTimeText = query["sinceTime"].ToString();
        var badSinceTime = false;
        if (sinceTimeText.Length > 0)
        {
            if (DateTimeOffset.TryParse(sinceTimeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var st))
            {
                sinceTime = st;
            }
            else
            {
                badSinceTime = true;
            }
        }

        if (follow is null || previous is null || timestamps is null || badTail || badLimit || badSince || badSinceTime)
        {
            return (null, StatusCodes.Status400BadRequest, undecodable);
        }

        if (tail < 0 || limit < 1 || sinceSeconds < 1 || (sinceSeconds is not null && sinceTime is not null))
        {
            return (null, StatusCodes.Status422UnprocessableEntity, invalid);
        }

        DateTimeOffset? since = sinceTime;
        if (sinceSeconds is { } seconds)
        {
            // Bounded: a since before the epoch reads everything (no overflow).
            since = seconds >= (now - DateTimeOffset.UnixEpoch).TotalSeconds ? DateTimeOffset.UnixEpoch : now.AddSeconds(-seconds);
        }

        return (new ContainerLogQuery
        {
            Follow = follow.Value,
            Previous = previous.Value,
            Timestamps = timestamps.Value,
            TailLines = tail is null ? null : (int)Math.Min(tail.Value, int.MaxValue),
            LimitBytes = limit,
            Since = since,
        }, 200, string.Empty);
    }
}
