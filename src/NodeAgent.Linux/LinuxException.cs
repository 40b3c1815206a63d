using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>A system call failed. The message names the call, the object and the errno text.</summary>
public sealed class LinuxException : IOException
{
    public LinuxException(string operation, string? target, int errno)
        : base(Format(operation, target, errno))
    {
        Errno = errno;
        Operation = operation;
        Target = target;
    }

    public int Errno { get; }

    public string Operation { get; }

    public string? Target { get; }

    public static string Describe(int errno)
    {
        var text = Marshal.PtrToStringUTF8(Libc.Strerror(errno)) ?? "unknown error";
        var name = ErrnoNames.Get(errno);
        return name is null ? text : $"{text} ({name})";
    }

    private static string Format(string operation, string? target, int errno) =>
        target is null ? $"{operation}: {Describe(errno)}" : $"{operation} {target}: {Describe(errno)}";

    /// <summary>Throws when a libc call returned -1, with the errno of that call.</summary>
    public static int ThrowIfError(int result, string operation, string? target = null)
    {
        if (result < 0)
        {
            throw new LinuxException(operation, target, Marshal.GetLastPInvokeError());
        }

        return result;
    }

    public static nint ThrowIfError(nint result, string operation, string? target = null)
    {
        if (result < 0)
        {
            throw new LinuxException(operation, target, Marshal.GetLastPInvokeError());
        }

        return result;
    }
}
