namespace NodeAgent.Linux;

/// <summary>The descriptors a spawned child gets as stdin, stdout and stderr (stdin -1: /dev/null).</summary>
public readonly record struct SpawnStdio(int Stdin, int Stdout, int Stderr);
