using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Agent;

namespace NodeAgent.Tests.Kubelet.Agent;

public sealed class HeapTrimmerTests
{
    private const long MiB = 1L << 20;

    private readonly ListLogger<HeapTrimmer> _log = new();
    private readonly Channel<bool> _checks = Channel.CreateUnbounded<bool>();
    private long _committed = 100 * MiB;
    private int _trims;

    private HeapTrimmer Trimmer(Action? trim = null) => new(TimeProvider.System, _log, () => Interlocked.Read(ref _committed), trim ?? (() =>
    {
        Interlocked.Increment(ref _trims);
        Interlocked.Exchange(ref _committed, 90 * MiB);
    }))
    {
        Delay = TimeSpan.FromMilliseconds(20),
        Threshold = 16 * MiB,
        Checked = t => _checks.Writer.TryWrite(t),
    };

    private async Task<bool> NextCheckAsync() => await _checks.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    [Fact]
    public async Task AWaveOfRemovalsAfterGrowthIsOneTrim()
    {
        using var trimmer = Trimmer();
        Interlocked.Exchange(ref _committed, 140 * MiB);
        for (var i = 0; i < 5; i++)
        {
            trimmer.PodRemoved();
        }

        Assert.True(await NextCheckAsync());
        Assert.Equal(1, _trims);
        Assert.Equal(1, trimmer.Trims);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information && e.Message.StartsWith("pods removed: heap trimmed, committed 140 MiB -> 90 MiB (heap ", StringComparison.Ordinal));

        // Nothing grew since: the next removal checks and does not collect.
        trimmer.PodRemoved();
        Assert.False(await NextCheckAsync());
        Assert.Equal(1, _trims);

        // Growth below the threshold is not worth a full collection; past it, it is.
        Interlocked.Exchange(ref _committed, 100 * MiB);
        trimmer.PodRemoved();
        Assert.False(await NextCheckAsync());
        Interlocked.Exchange(ref _committed, 107 * MiB);
        trimmer.PodRemoved();
        Assert.True(await NextCheckAsync());
        Assert.Equal(2, _trims);
    }

    [Fact]
    public async Task AFailedTrimIsLoggedAndTheNextOneStillRuns()
    {
        var fail = true;
        using var trimmer = Trimmer(() =>
        {
            if (fail)
            {
                throw new InvalidOperationException("boom");
            }

            Interlocked.Increment(ref _trims);
        });
        Interlocked.Exchange(ref _committed, 140 * MiB);
        trimmer.PodRemoved();
        Assert.False(await NextCheckAsync());
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning && e.Message == "pods removed: heap trim failed: boom");

        fail = false;
        trimmer.PodRemoved();
        Assert.True(await NextCheckAsync());
        Assert.Equal(1, _trims);
    }
}
