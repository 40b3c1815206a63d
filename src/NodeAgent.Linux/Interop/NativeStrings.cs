using System.Runtime.InteropServices;

namespace NodeAgent.Linux.Interop;

/// <summary>Pins strings as NUL-terminated UTF-8 and builds NULL-terminated pointer arrays (argv, envp) for exec-style calls.</summary>
internal sealed unsafe class NativeStrings : IDisposable
{
    private readonly List<GCHandle> _pinned = [];

    public byte* Pin(string s)
    {
        var h = GCHandle.Alloc(System.Text.Encoding.UTF8.GetBytes(s + "\0"), GCHandleType.Pinned);
        _pinned.Add(h);
        return (byte*)h.AddrOfPinnedObject();
    }

    /// <summary>A pinned, NULL-terminated array of pointers to <paramref name="items"/>.</summary>
    public byte** Array(IReadOnlyList<string> items)
    {
        var pointers = new nint[items.Count + 1];
        for (var i = 0; i < items.Count; i++)
        {
            pointers[i] = (nint)Pin(items[i]);
        }

        var h = GCHandle.Alloc(pointers, GCHandleType.Pinned);
        _pinned.Add(h);
        return (byte**)h.AddrOfPinnedObject();
    }

    public void Dispose()
    {
        foreach (var h in _pinned)
        {
            h.Free();
        }
    }
}
