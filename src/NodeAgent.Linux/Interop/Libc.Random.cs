using System.Runtime.InteropServices;

namespace NodeAgent.Linux.Interop;

internal static unsafe partial class Libc
{
    [LibraryImport(Lib, EntryPoint = "getrandom", SetLastError = true)]
    internal static partial nint GetRandom(byte* buffer, nuint length, uint flags);
}
