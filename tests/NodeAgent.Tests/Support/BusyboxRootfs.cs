namespace NodeAgent.Tests.Support;

/// <summary>A root filesystem made from Debian's static busybox, for tests that run containers without the image store.</summary>
public sealed class BusyboxRootfs : IDisposable
{
    private readonly TempDir _dir = new("nodeagent-rootfs");

    public BusyboxRootfs()
    {
        const string busybox = "/bin/busybox";
        if (!File.Exists(busybox))
        {
            throw new InvalidOperationException("/bin/busybox missing: apt-get install busybox-static (hack/test.sh does)");
        }

        // Like an image's root: traversable by every user (a temp directory starts as 0700).
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        foreach (var d in new[] { "bin", "etc", "proc", "sys", "dev", "tmp", "root" })
        {
            Directory.CreateDirectory(_dir.Combine(d));
        }

        File.Copy(busybox, _dir.Combine("bin", "busybox"));
        foreach (var applet in RepoPaths.Run(busybox, "--list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (applet != "busybox")
            {
                File.CreateSymbolicLink(_dir.Combine("bin", applet), "busybox");
            }
        }

        File.WriteAllText(_dir.Combine("etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
        File.WriteAllText(_dir.Combine("etc", "group"), "root:x:0:\nnobody:x:65534:\n");
    }

    public string Path => _dir.Path;

    public void Dispose() => _dir.Dispose();
}
