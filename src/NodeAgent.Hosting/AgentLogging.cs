using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace NodeAgent.Hosting;

/// <summary>Registers the agent's console log format: kubelet's <c>--logging-format</c> <c>text</c> or <c>json</c>.</summary>
public static class AgentLogging
{
    /// <summary>The formats <c>--logging-format</c> accepts.</summary>
    public static IReadOnlyList<string> Formats { get; } = ["text", "json"];

    /// <summary>
    /// Adds the console logger with the formatter of <paramref name="format"/>. Call it after anything else that
    /// picks a console formatter (the systemd integration chooses its own otherwise).
    /// </summary>
    /// <exception cref="ArgumentException">An unknown format.</exception>
    public static ILoggingBuilder AddAgentConsole(this ILoggingBuilder builder, string format)
    {
        var name = format switch
        {
            "text" => KlogTextFormatter.Name,
            "json" => JsonLogFormatter.Name,
            _ => throw new ArgumentException($"--logging-format \"{format}\": unsupported value: supported values: \"json\", \"text\""),
        };
        builder.AddConsole();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, KlogTextFormatter>(
            sp => new KlogTextFormatter(sp.GetService<TimeProvider>() ?? TimeProvider.System)));
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, JsonLogFormatter>(
            sp => new JsonLogFormatter(sp.GetService<TimeProvider>() ?? TimeProvider.System)));
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = name);
        return builder;
    }
}
