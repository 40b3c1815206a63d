namespace NodeAgent.Tests.Support;

/// <summary>
/// A tiny static x86-64 program for containers: <c>keyctl(KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)</c>,
/// exiting with the call's errno (0 when it succeeded). The test image (busybox) has no keyctl applet, and a
/// 200-byte ELF written here needs neither a toolchain nor an image change.
/// </summary>
public static class KeyctlProbe
{
    private const ulong Base = 0x400000;

    private static readonly byte[] Code =
    [
        0xb8, 0xfa, 0x00, 0x00, 0x00,       // mov eax, 250 (keyctl)
        0xbf, 0x00, 0x00, 0x00, 0x00,       // mov edi, 0 (KEYCTL_GET_KEYRING_ID)
        0xbe, 0xfd, 0xff, 0xff, 0xff,       // mov esi, -3 (KEY_SPEC_SESSION_KEYRING)
        0x31, 0xd2,                         // xor edx, edx (do not create)
        0x0f, 0x05,                         // syscall
        0x31, 0xff,                         // xor edi, edi
        0x48, 0x85, 0xc0,                   // test rax, rax
        0x79, 0x04,                         // jns exit
        0xf7, 0xd8,                         // neg eax
        0x89, 0xc7,                         // mov edi, eax
        0xb8, 0x3c, 0x00, 0x00, 0x00,       // exit: mov eax, 60 (exit)
        0x0f, 0x05,                         // syscall
    ];

    public static void Write(string path)
    {
        const int header = 64, programHeader = 56;
        var size = (ulong)(header + programHeader + Code.Length);
        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream))
        {
            w.Write([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // ELF64, little-endian, SysV
            w.Write((ushort)2);           // ET_EXEC
            w.Write((ushort)0x3e);        // EM_X86_64
            w.Write(1u);                  // EV_CURRENT
            w.Write(Base + header + programHeader); // entry
            w.Write((ulong)header);       // program headers
            w.Write(0UL);                 // no section headers
            w.Write(0u);                  // flags
            w.Write((ushort)header);
            w.Write((ushort)programHeader);
            w.Write((ushort)1);
            w.Write((ushort)0);
            w.Write((ushort)0);
            w.Write((ushort)0);
            w.Write(1u);                  // PT_LOAD
            w.Write(5u);                  // R + X
            w.Write(0UL);                 // offset
            w.Write(Base);                // vaddr
            w.Write(Base);                // paddr
            w.Write(size);                // filesz
            w.Write(size);                // memsz
            w.Write(0x1000UL);            // align
            w.Write(Code);
        }

        File.WriteAllBytes(path, stream.ToArray());
        File.SetUnixFileMode(path, (UnixFileMode)0x1ed);
    }
}
