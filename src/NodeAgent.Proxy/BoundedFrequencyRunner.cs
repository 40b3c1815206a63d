using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Proxy;

/// <summary>
/// Paces calls of one sync function (kube-proxy's BoundedFrequencyRunner): <see cref="Run"/> asks for a sync and
/// returns at once; requests that arrive while one is pending or running fold into one sync; two syncs are at least
/// <c>minInterval</c> apart; without requests a sync still runs every <c>maxInterval</c>; a sync that fails (returns
/// false or throws) is retried after <c>retryInterval</c> even if nobody asks.
/// </summary>
public sealed partial class BoundedFrequencyRunner : IAsyncDisposable
{
    private readonly Func<CancellationToken, Task<bool>> _sync;
    private readonly TimeSpan _minInterval, _maxInterval, _retryInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public BoundedFrequencyRunner(Func<CancellationToken, Task<bool>> sync, TimeSpan minInterval, TimeSpan maxInterval,
        TimeSpan retryInterval, ILogger logger, TimeProvider? time = null)
    {
        if (minInterval < TimeSpan.Zero || maxInterval <= TimeSpan.Zero || retryInterval < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(minInterval), "intervals must not be negative and maxInterval must be positive");
        }
        _sync = sync;
        _minInterval = minInterval;
        _maxInterval = maxInterval;
        _retryInterval = retryInterval;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How many syncs have run (succeeded or not).</summary>
    public int Runs { get; private set; }

    /// <summary>Starts the loop; the first sync runs at once.</summary>
    public void Start()
    {
        if (_loop is not null)
        {
            throw new InvalidOperationException("the runner is already started");
        }
        Run();
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    /// <summary>Asks for a sync as soon as the minimum interval allows.</summary>
    public void Run() => _requests.Writer.TryWrite(true);

    private async Task LoopAsync(CancellationToken stop)
    {
        var last = DateTimeOffset.MinValue;
        DateTimeOffset? retryAt = null;
        while (!stop.IsCancellationRequested)
        {
            var due = retryAt is { } r && r < last + _maxInterval ? r : (last == DateTimeOffset.MinValue ? DateTimeOffset.MaxValue : last + _maxInterval);
            await WaitForRequestAsync(due, stop);
            if (last != DateTimeOffset.MinValue && _time.GetUtcNow() - last < _minInterval)
            {
                await Task.Delay(last + _minInterval - _time.GetUtcNow(), _time, stop);
            }
            _requests.Reader.TryRead(out _);
            last = _time.GetUtcNow();
            Runs++;
            bool ok;
            try
            {
                ok = await _sync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                Log.SyncThrew(_logger, ex);
                ok = false;
            }
            retryAt = ok ? null : _time.GetUtcNow() + _retryInterval;
        }
    }

    private async Task WaitForRequestAsync(DateTimeOffset due, CancellationToken stop)
    {
        var wait = due == DateTimeOffset.MaxValue ? Timeout.InfiniteTimeSpan : due - _time.GetUtcNow();
        if (wait != Timeout.InfiniteTimeSpan && wait <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new CancellationTokenSource(wait, _time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, timer.Token);
        try
        {
            await _requests.Reader.WaitToReadAsync(either.Token);
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            // The interval elapsed: a periodic sync or a retry.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }
        _stop.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Proxy sync failed; retrying")]
        public static partial void SyncThrew(ILogger logger, Exception exception);
    }
}
