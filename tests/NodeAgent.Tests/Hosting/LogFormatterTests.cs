using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using NodeAgent.Hosting;
using NodeAgent.Tests.Kubelet;

namespace NodeAgent.Tests.Hosting;

/// <summary>
/// kubelet's --logging-format: klog's single-line text (severity, date, time with microseconds, PID, short logger
/// name, message, key="value" for values the message does not show) and component-base's JSON lines.
/// </summary>
public sealed partial class LogFormatterTests
{
    private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 12, 1, 8, 30, 0, TimeSpan.Zero).AddTicks(1_234_567);
    private readonly FixedTimeProvider _time = new(Now);

    [Fact]
    public void TextIsKlogsHeaderThenTheMessage()
    {
        var line = Text("NodeAgent.Kubelet.Events.PodEventLog", l => LogEvent(l, "default", "web", "Started", "Started container main"));
        var pid = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(7);
        Assert.Equal($"I1201 08:30:00.123456 {pid} PodEventLog] event pod=default/web reason=Started: Started container main\n", line);
    }

    [Fact]
    public void SeverityLettersFollowKlog()
    {
        Assert.StartsWith("W1201 ", Text("c", l => l.LogWarning("w")), StringComparison.Ordinal);
        Assert.StartsWith("E1201 ", Text("c", l => l.LogError("e")), StringComparison.Ordinal);
        Assert.StartsWith("F1201 ", Text("c", l => l.LogCritical("f")), StringComparison.Ordinal);
        Assert.StartsWith("I1201 ", Text("c", l => l.LogDebug("d")), StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesTheMessageDoesNotShowFollowAsQuotedKeyValuePairs()
    {
        var state = new List<KeyValuePair<string, object?>>
        {
            new("Pod", "default/web app"),
            new("Attempt", 3),
            new("Ready", true),
            new("Missing", null),
            new("{OriginalFormat}", "pod synced"),
        };
        var line = Text("NodeAgent.Kubelet.Pods.PodWorkers", l => l.Log(LogLevel.Information, default, state, null, (_, _) => "pod synced"));
        Assert.EndsWith("PodWorkers] pod synced pod=\"default/web app\" attempt=3 ready=true missing=<nil>\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public void ExceptionsAndMultiLineMessagesStayOnOneLine()
    {
        var error = Text("NodeAgent.Kubelet.Agent.LoopSupervisor", l => l.LogError(Thrown(), "{Loop} loop failed", "pod dispatcher"));
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains("LoopSupervisor] pod dispatcher loop failed err=\"System.InvalidOperationException: say \\\"no\\\"\\n", error, StringComparison.Ordinal);

        var multi = Text("c", l => l.LogInformation("first\nsecond \"quoted\""));
        Assert.EndsWith("c] \"first\\nsecond \\\"quoted\\\"\"\n", multi, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonIsOneObjectPerLineWithTsMsgVAndTheFields()
    {
        var line = Json("NodeAgent.Kubelet.Events.PodEventLog", l => LogEvent(l, "default", "web", "Started", "Started \"main\""));
        Assert.EndsWith("}\n", line, StringComparison.Ordinal);
        Assert.Single(line.TrimEnd('\n').Split('\n'));
        using var doc = JsonDocument.Parse(line);
        var o = doc.RootElement;
        Assert.Equal((Now - DateTimeOffset.UnixEpoch).TotalMilliseconds, o.GetProperty("ts").GetDouble(), 3);
        Assert.Equal("PodEventLog", o.GetProperty("logger").GetString());
        Assert.Equal("event pod=default/web reason=Started: Started \"main\"", o.GetProperty("msg").GetString());
        Assert.Equal(0, o.GetProperty("v").GetInt32());
        Assert.Equal("default", o.GetProperty("namespace").GetString());
        Assert.Equal("web", o.GetProperty("pod").GetString());
        Assert.Equal("Started \"main\"", o.GetProperty("message").GetString());
        Assert.False(o.TryGetProperty("level", out _));
        Assert.Equal(["ts", "logger", "msg", "v"], o.EnumerateObject().Take(4).Select(p => p.Name));
    }

    [Fact]
    public void JsonErrorsCarryErrAndNoVerbosity()
    {
        using var doc = JsonDocument.Parse(Json("x.Y", l => l.LogError(Thrown(), "{Loop} loop failed", "pod config")));
        var o = doc.RootElement;
        Assert.False(o.TryGetProperty("v", out _));
        Assert.Equal("error", o.GetProperty("level").GetString());
        Assert.StartsWith("System.InvalidOperationException: say \"no\"", o.GetProperty("err").GetString(), StringComparison.Ordinal);
        Assert.Equal("pod config", o.GetProperty("loop").GetString());

        using var warn = JsonDocument.Parse(Json("x.Y", l => l.LogWarning("careful")));
        Assert.Equal(0, warn.RootElement.GetProperty("v").GetInt32());
        Assert.Equal("warning", warn.RootElement.GetProperty("level").GetString());
    }

    [Fact]
    public void TheConsoleLoggerUsesTheChosenFormat()
    {
        foreach (var (format, name) in new[] { ("text", KlogTextFormatter.Name), ("json", JsonLogFormatter.Name) })
        {
            var services = new ServiceCollection();
            services.AddLogging(b => b.AddAgentConsole(format));
            using var sp = services.BuildServiceProvider();
            Assert.Equal(name, sp.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
            Assert.Contains(sp.GetServices<ConsoleFormatter>(), f => f.Name == name);
        }

        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddLogging(b => b.AddAgentConsole("xml")));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "event pod={Namespace}/{Pod} reason={Reason}: {Message}")]
    private static partial void LogEvent(ILogger logger, string @namespace, string pod, string reason, string message);

    private static InvalidOperationException Thrown()
    {
        try
        {
            throw new InvalidOperationException("say \"no\"");
        }
        catch (InvalidOperationException e)
        {
            return e;
        }
    }

    private string Text(string category, Action<ILogger> log) => Format(new KlogTextFormatter(_time), category, log);

    private string Json(string category, Action<ILogger> log) => Format(new JsonLogFormatter(_time), category, log);

    private static string Format(ConsoleFormatter formatter, string category, Action<ILogger> log)
    {
        var writer = new StringWriter();
        log(new FormattingLogger(formatter, category, writer));
        return writer.ToString();
    }

    /// <summary>Hands each entry to a formatter as the console logger does.</summary>
    private sealed class FormattingLogger(ConsoleFormatter formatter, string category, TextWriter writer) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> format) =>
            formatter.Write(new LogEntry<TState>(logLevel, category, eventId, state, exception, format), null, writer);
    }
}
