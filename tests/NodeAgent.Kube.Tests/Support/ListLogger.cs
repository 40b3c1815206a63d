using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NodeAgent.Kube.Tests.Support;

/// <summary>A logger that keeps messages and lets a test await one that matches.</summary>
public sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource Done)> _waiters = [];
    private readonly Lock _lock = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public Task WaitForAsync(Func<string, bool> match)
    {
        lock (_lock)
        {
            if (_messages.Any(match))
            {
                return Task.CompletedTask;
            }
            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, tcs));
            return tcs.Task;
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        lock (_lock)
        {
            _messages.Enqueue(message);
            foreach (var w in _waiters.Where(w => w.Match(message)).ToList())
            {
                w.Done.TrySetResult();
                _waiters.Remove(w);
            }
        }
    }
}
