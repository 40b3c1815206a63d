using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using NodeAgent.Server.Logs;

namespace NodeAgent.Tests.Server;

/// <summary>/containerLogs' query as kubelet decodes (400) and validates (422) PodLogOptions; absurd sizes bounded.</summary>
public sealed class ContainerLogQueryTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 5, 0, 0, TimeSpan.Zero);

    private static (ContainerLogQuery? Query, int Status, string Error) Parse(string query) =>
        ContainerLogQuery.Parse(new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query)), Now);

    [Theory]
    [InlineData("tailLines=abc")]
    [InlineData("tailLines=99999999999999999999999")]
    [InlineData("limitBytes=1.5")]
    [InlineData("follow=maybe")]
    [InlineData("sinceTime=yesterday")]
    [InlineData("tail=ten")]
    public void UndecodableIs400(string query)
    {
        var (q, status, error) = Parse(query);
        Assert.Null(q);
        Assert.Equal((400, """{"message": "Unable to decode query."}"""), (status, error));
    }

    [Theory]
    [InlineData("tailLines=-1")]
    [InlineData("limitBytes=0")]
    [InlineData("sinceSeconds=0")]
    [InlineData("sinceSeconds=5&sinceTime=2026-12-01T00:00:00Z")]
    public void InvalidIs422(string query)
    {
        var (q, status, error) = Parse(query);
        Assert.Null(q);
        Assert.Equal((422, """{"message": "Invalid request."}"""), (status, error));
    }

    [Fact]
    public void AbsurdSizesAreBoundedNotRefused()
    {
        var q = Parse("tailLines=9223372036854775807&limitBytes=9223372036854775807&sinceSeconds=9223372036854775807").Query!;
        Assert.Equal(int.MaxValue, q.TailLines);
        Assert.Equal(long.MaxValue, q.LimitBytes);
        Assert.Equal(DateTimeOffset.UnixEpoch, q.Since);
    }

    [Fact]
    public void KubeletsOptionsAreRead()
    {
        var q = Parse("follow=true&previous=1&timestamps=true&tail=all&sinceSeconds=60").Query!;
        Assert.Equal((true, true, true, (int?)null, Now.AddSeconds(-60)), (q.Follow, q.Previous, q.Timestamps, q.TailLines, q.Since));
        Assert.Equal(3, Parse("tail=3").Query!.TailLines);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), Parse("sinceTime=2026-12-01T00:00:00Z").Query!.Since);
        Assert.Equal((false, false, false, (int?)null, (long?)null), (Parse("").Query!.Follow, Parse("").Query!.Previous, Parse("").Query!.Timestamps, Parse("").Query!.TailLines, Parse("").Query!.LimitBytes));
    }

    [Theory]
    [InlineData(0L, "2016-10-06T00:17:09Z")]
    [InlineData(6697942L, "2016-10-06T00:17:09.6697942Z")]
    [InlineData(5000000L, "2016-10-06T00:17:09.5Z")]
    [InlineData(1L, "2016-10-06T00:17:09.0000001Z")]
    public void TimestampsAreGosRfc3339Nano(long ticks, string expected) =>
        Assert.Equal(expected, GoTime.Rfc3339Nano(new DateTimeOffset(2016, 10, 6, 0, 17, 9, TimeSpan.Zero).AddTicks(ticks)));
}
