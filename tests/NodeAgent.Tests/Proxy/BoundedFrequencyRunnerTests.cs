using NodeAgent.Proxy;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Proxy;

public class BoundedFrequencyRunnerTests
{
    private readonly ListLogger<BoundedFrequencyRunnerTests> _log = new();

    /// <summary>Records each sync's start time and lets the test await the n-th one.</summary>
    private sealed class Syncs(Func<int, bool>? outcome = null)
    {
        private readonly List<DateTimeOffset> _starts = [];
        private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

        public IReadOnlyList<DateTimeOffset> Starts { get { lock (_starts) { return _starts.ToList(); } } }

        public Task<bool> RunAsync(CancellationToken _)
        {
            int n;
            lock (_starts)
            {
                _starts.Add(DateTimeOffset.UtcNow);
                n = _starts.Count;
                foreach (var w in _waiters.Where(w => w.Count <= n).ToList())
                {
                    w.Done.TrySetResult();
                    _waiters.Remove(w);
                }
            }
            return Task.FromResult(outcome?.Invoke(n) ?? true);
        }

        public Task WaitForAsync(int count)
        {
            lock (_starts)
            {
                if (_starts.Count >= count)
                {
                    return Task.CompletedTask;
                }
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, done));
                return done.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
    }

    [Fact]
    public async Task RequestsAreFoldedAndSyncsKeepTheMinimumPeriodApart()
    {
        var syncs = new Syncs();
        var min = TimeSpan.FromMilliseconds(300);
        await using var runner = new BoundedFrequencyRunner(syncs.RunAsync, min, TimeSpan.FromHours(1), TimeSpan.FromHours(1), _log);
        runner.Start();
        await syncs.WaitForAsync(1);
        for (var i = 0; i < 50; i++)
        {
            runner.Run();
        }
        await syncs.WaitForAsync(2);
        runner.Run();
        await syncs.WaitForAsync(3);

        var starts = syncs.Starts;
        // 50 requests while one sync was pending make one sync, not 50.
        Assert.True(starts.Count <= 4, $"{starts.Count} syncs");
        for (var i = 1; i < starts.Count; i++)
        {
            Assert.True(starts[i] - starts[i - 1] >= min - TimeSpan.FromMilliseconds(20), $"syncs {i - 1} and {i} were {(starts[i] - starts[i - 1]).TotalMilliseconds} ms apart");
        }
    }

    [Fact]
    public async Task AFailedSyncIsRetriedWithoutARequest()
    {
        var syncs = new Syncs(n => n > 2);
        await using var runner = new BoundedFrequencyRunner(syncs.RunAsync, TimeSpan.Zero, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50), _log);
        runner.Start();

        // Nobody calls Run again: the two failures bring the retries.
        await syncs.WaitForAsync(3);
        Assert.Equal(3, runner.Runs);
    }

    [Fact]
    public async Task AThrowingSyncIsLoggedAndRetried()
    {
        var syncs = new Syncs(n => n == 1 ? throw new IOException("iptables-restore refused line 7") : true);
        await using var runner = new BoundedFrequencyRunner(syncs.RunAsync, TimeSpan.Zero, TimeSpan.FromHours(1), TimeSpan.FromMilliseconds(50), _log);
        runner.Start();
        await syncs.WaitForAsync(2);
        Assert.Contains(_log.Entries, e => e.Message.Contains("retrying"));
    }

    [Fact]
    public async Task WithoutRequestsASyncStillRunsEveryMaxInterval()
    {
        var syncs = new Syncs();
        var max = TimeSpan.FromMilliseconds(200);
        await using var runner = new BoundedFrequencyRunner(syncs.RunAsync, TimeSpan.Zero, max, TimeSpan.FromHours(1), _log);
        runner.Start();
        await syncs.WaitForAsync(3);
        var starts = syncs.Starts;
        Assert.True(starts[2] - starts[1] >= max - TimeSpan.FromMilliseconds(20));
    }
}
