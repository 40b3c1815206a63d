namespace NodeAgent.Cri;

public enum RuntimeErrorKind
{
    NotFound,
    InvalidArgument,
    FailedPrecondition,
    CreateContainerError,
    StartError,
    SandboxError,
    Io,

    /// <summary>The container's configuration cannot be prepared (a subPath that escapes its volume…): kubelet's CreateContainerConfigError.</summary>
    CreateContainerConfigError,
}

/// <summary>A runtime call failed; the message names the container or sandbox and the cause.</summary>
public sealed class RuntimeException(RuntimeErrorKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public RuntimeErrorKind Kind { get; } = kind;
}
