using Prometheus;

namespace NodeAgent.Kubelet.Reporting;

/// <summary>
/// kubelet's CRI instrumentation (<c>instrumented_services.go</c>): <c>kubelet_runtime_operations_total</c>,
/// <c>kubelet_runtime_operations_duration_seconds</c> and <c>kubelet_runtime_operations_errors_total</c>, each by
/// <c>operation_type</c> named as kubelet names the CRI call (<c>run_podsandbox</c>, <c>create_container</c>,
/// <c>list_containers</c>, <c>pull_image</c>…). Fed by <see cref="InstrumentedRuntimeService"/> and
/// <see cref="InstrumentedImageService"/>.
/// </summary>
public sealed class RuntimeOperationMetrics
{
    private readonly Counter _operations;
    private readonly Histogram _durations;
    private readonly Counter _errors;
    private readonly TimeProvider _time;

    public RuntimeOperationMetrics(IMetricFactory factory, TimeProvider time)
    {
        _time = time;
        _operations = factory.CreateCounter("kubelet_runtime_operations_total",
            MetricHelp.Alpha("Cumulative number of runtime operations by operation type."),
            new CounterConfiguration { LabelNames = ["operation_type"] });
        _durations = factory.CreateHistogram("kubelet_runtime_operations_duration_seconds",
            MetricHelp.Alpha("Duration in seconds of runtime operations. Broken down by operation type."),
            new HistogramConfiguration { LabelNames = ["operation_type"], Buckets = MetricHelp.Exponential(0.005, 2.5, 14) });
        _errors = factory.CreateCounter("kubelet_runtime_operations_errors_total",
            MetricHelp.Alpha("Cumulative number of runtime operation errors by operation type."),
            new CounterConfiguration { LabelNames = ["operation_type"] });
    }

    /// <summary>Counts an operation and returns the timestamp its duration is measured from.</summary>
    public long Begin(string operation)
    {
        _operations.WithLabels(operation).Inc();
        return _time.GetTimestamp();
    }

    /// <summary>The operation ended (failed when <paramref name="failed"/>).</summary>
    public void End(string operation, long started, bool failed = false)
    {
        _durations.WithLabels(operation).Observe(_time.GetElapsedTime(started).TotalSeconds);
        if (failed)
        {
            _errors.WithLabels(operation).Inc();
        }
    }

    /// <summary>Runs a synchronous call, counted, timed, and its exception counted as an error.</summary>
    public T Measure<T>(string operation, Func<T> call)
    {
        var started = Begin(operation);
        try
        {
            var result = call();
            End(operation, started);
            return result;
        }
        catch
        {
            End(operation, started, failed: true);
            throw;
        }
    }

    /// <summary>Runs an asynchronous call, counted, timed, and its exception counted as an error.</summary>
    public async Task<T> MeasureAsync<T>(string operation, Func<Task<T>> call)
    {
        var started = Begin(operation);
        try
        {
            var result = await call().ConfigureAwait(false);
            End(operation, started);
            return result;
        }
        catch
        {
            End(operation, started, failed: true);
            throw;
        }
    }

    public async Task MeasureAsync(string operation, Func<Task> call)
    {
        var started = Begin(operation);
        try
        {
            await call().ConfigureAwait(false);
            End(operation, started);
        }
        catch
        {
            End(operation, started, failed: true);
            throw;
        }
    }
}
