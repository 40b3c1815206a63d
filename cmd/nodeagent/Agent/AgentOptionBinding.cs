using System.CommandLine;

namespace NodeAgent.Cli.Agent;

/// <summary>
/// One flag of the agent and the KubeletConfiguration field it overrides (null for a flag-only setting), with how
/// its value is applied to <see cref="AgentOptions"/> when the flag is given on the command line.
/// </summary>
internal sealed record AgentOptionBinding(Option Flag, string? FileField, Action<ParseResult, AgentOptions> Apply);
