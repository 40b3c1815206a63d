using System.IO.Enumeration;
using System.Runtime.InteropServices;
using NodeAgent.Linux.Interop;

namespace NodeAgent.Linux;

/// <summary>
/// Space use of directory trees and filesystems: <see cref="Measure"/> walks a tree as <c>du</c> does (allocated
/// blocks of every entry, symlinks not followed, each hard-linked inode counted once), <see cref="Filesystem"/> is
/// statvfs, <see cref="DeviceOf"/> the device number holding a path.
/// </summary>
public static class DiskUsage
{
    /// <summary>Bytes allocated and inodes used by the tree at <paramref name="directory"/>; (0, 0) when it does not exist.</summary>
    public static unsafe (ulong Bytes, ulong Inodes) Measure(string directory, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(directory))
        {
            return (0, 0);
        }

        ulong bytes = 0, inodes = 0;
        HashSet<(ulong, ulong)>? linked = null;
        var stat = new byte[256];
        bool Add(string path)
        {
            fixed (byte* buffer = stat)
            {
                return AddStat(path, buffer);
            }
        }

        bool AddStat(string path, byte* buffer)
        {
            if (Libc.Lstat(path, buffer) != 0)
            {
                return false; // removed meanwhile
            }

            ulong dev = *(ulong*)buffer, ino = *(ulong*)(buffer + 8), nlink = *(ulong*)(buffer + 16);
            uint mode = *(uint*)(buffer + 24);
            if (nlink > 1 && (mode & 0xF000) != 0x4000 && !(linked ??= []).Add((dev, ino)))
            {
                return true;
            }

            bytes += (ulong)*(long*)(buffer + 64) * 512;
            inodes++;
            return true;
        }

        Add(directory);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        var paths = new FileSystemEnumerable<string>(directory, (ref FileSystemEntry e) => e.ToFullPath(), options)
        {
            // Never descend through a symlink to a directory.
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };
        foreach (var path in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Add(path);
        }

        return (bytes, inodes);
    }

    /// <summary>statvfs of the filesystem holding <paramref name="path"/>.</summary>
    public static unsafe FilesystemUsage Filesystem(string path)
    {
        var b = stackalloc byte[128];
        if (Libc.Statvfs(path, b) != 0)
        {
            throw new LinuxException("statvfs", path, Marshal.GetLastPInvokeError());
        }

        ulong frsize = *(ulong*)(b + 8);
        ulong U(int offset) => *(ulong*)(b + offset);
        return new FilesystemUsage(U(16) * frsize, U(24) * frsize, U(32) * frsize, U(40), U(48));
    }

    /// <summary>The major and minor number of the device holding <paramref name="path"/> (st_dev).</summary>
    public static unsafe (uint Major, uint Minor) DeviceOf(string path)
    {
        var b = stackalloc byte[256];
        if (Libc.Stat(path, b) != 0)
        {
            throw new LinuxException("stat", path, Marshal.GetLastPInvokeError());
        }

        ulong dev = *(ulong*)b;
        uint major = (uint)(((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfffUL));
        uint minor = (uint)((dev & 0xff) | ((dev >> 12) & ~0xffUL));
        return (major, minor);
    }
}
