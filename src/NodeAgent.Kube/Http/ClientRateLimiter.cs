namespace NodeAgent.Kube.Http;

/// <summary>
/// client-go's client-side token bucket (<c>flowcontrol.NewTokenBucketRateLimiter(qps, burst)</c>): the bucket holds at
/// most <c>burst</c> tokens and refills at <c>qps</c> per second; a request takes one token or waits its turn. Waiters
/// reserve their token in order, so a burst of callers is paced rather than woken together.
/// </summary>
public sealed class ClientRateLimiter
{
    private readonly double _qps;
    private readonly double _burst;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private double _tokens;
    private long _last;

    public ClientRateLimiter(double qps, int burst, TimeProvider? time = null)
    {
        if (qps > 0 && burst < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(burst), burst, "burst must be at least 1 when qps is set");
        }
        _qps = qps;
        _burst = burst;
        _time = time ?? TimeProvider.System;
        _tokens = burst;
        _last = _time.GetTimestamp();
    }

    /// <summary>True when no limit applies (qps ≤ 0).</summary>
    public bool Unlimited => _qps <= 0;

    /// <summary>Takes a token, waiting as long as the bucket says.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (Unlimited)
        {
            return ValueTask.CompletedTask;
        }
        TimeSpan wait;
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(_burst, _tokens + _time.GetElapsedTime(_last, now).TotalSeconds * _qps);
            _last = now;
            _tokens -= 1;
            if (_tokens >= 0)
            {
                return ValueTask.CompletedTask;
            }
            wait = TimeSpan.FromSeconds(-_tokens / _qps);
        }
        return new ValueTask(Task.Delay(wait, _time, cancellationToken));
    }
}
