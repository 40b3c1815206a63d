using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>The minimal /dev of an OCI container: the standard character devices and the usual symlinks.</summary>
internal static class DevSetup
{
    private static readonly (string Name, uint Major, uint Minor)[] Devices =
    [
        ("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0),
    ];

    private static readonly (string Link, string Target)[] Links =
    [
        ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"),
    ];

    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead |
        UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    public static void Populate(string dev)
    {
        foreach (var (name, major, minor) in Devices)
        {
            var path = Path.Combine(dev, name);
            ProcessControl.MakeDevice(path, character: true, mode: 0x1b6 /* 0666 */, major, minor);
            File.SetUnixFileMode(path, Rw);
        }

        foreach (var (link, target) in Links)
        {
            ProcessControl.Symlink(target, Path.Combine(dev, link));
        }
    }
}
