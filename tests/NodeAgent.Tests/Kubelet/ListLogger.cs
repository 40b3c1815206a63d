using Microsoft.Extensions.Logging;

namespace NodeAgent.Tests.Kubelet;

/// <summary>An in-memory logger: records every message so tests can assert what was reported and how often.</summary>
public sealed class ListLogger<T> : ILogger<T>
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToList();
            }
        }
    }

    public IEnumerable<string> Errors => Entries.Where(e => e.Level >= LogLevel.Error).Select(e => e.Message);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var entry = (logLevel, formatter(state, exception));
        lock (_entries)
        {
            _entries.Add(entry);
            _waiters.RemoveAll(w => w.Match(entry) && w.Done.TrySetResult());
        }
    }

    private readonly List<(Func<(LogLevel Level, string Message), bool> Match, TaskCompletionSource Done)> _waiters = [];

    /// <summary>Completes when an entry (logged before or after the call) matches; fails after <paramref name="timeout"/>.</summary>
    public Task WaitForAsync(Func<(LogLevel Level, string Message), bool> match, TimeSpan timeout, string what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_entries)
        {
            if (_entries.Any(match))
            {
                return Task.CompletedTask;
            }

            _waiters.Add((match, done));
        }

        return done.Task.WaitAsync(timeout).ContinueWith(
            t => t.IsFaulted ? throw new TimeoutException($"{what}: no log entry within {timeout}") : Task.CompletedTask,
            TaskScheduler.Default).Unwrap();
    }
}
