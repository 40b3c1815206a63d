namespace NodeAgent.Cri;

/// <summary>A terminal's size in character cells (the CRI's and remotecommand's TerminalSize).</summary>
public readonly record struct TerminalSize(ushort Width, ushort Height);
