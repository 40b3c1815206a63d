namespace NodeAgent.Shim;

/// <summary>The container's first process as the shim holds it: its PID, its output pipes, and its exit code to come.</summary>
internal sealed record InitProcess(int Pid, Stream Stdout, Stream Stderr, Task<int> Exit);
