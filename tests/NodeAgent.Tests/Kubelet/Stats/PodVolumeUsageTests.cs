using NodeAgent.Kubelet.Stats;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Kubelet.Stats;

/// <summary>The pods' volume usage for /stats/summary: regular files counted, links (to the host's root, in a loop)
/// never followed, a links-for-directories trick at any level ignored.</summary>
public sealed class PodVolumeUsageTests : IDisposable
{
    private readonly TempDir _pods = new("nodeagent-volume-usage");

    [Fact]
    public void FilesAreCountedAndLinksAreNeverFollowed()
    {
        const string uid = "5f0c6d1e-1111-4222-8333-944455556666";
        var scratch = Directory.CreateDirectory(_pods.Combine(uid, "volumes", "kubernetes.io~empty-dir", "scratch")).FullName;
        File.WriteAllBytes(Path.Combine(scratch, "a"), new byte[1000]);
        Directory.CreateDirectory(Path.Combine(scratch, "sub"));
        File.WriteAllBytes(Path.Combine(scratch, "sub", "b"), new byte[24]);
        // What a hostile container leaves behind: a link to the host's root and a loop.
        File.CreateSymbolicLink(Path.Combine(scratch, "root"), "/");
        File.CreateSymbolicLink(Path.Combine(scratch, "sub", "loop"), Path.Combine(scratch, "sub"));
        var config = Directory.CreateDirectory(_pods.Combine(uid, "volumes", "kubernetes.io~configmap", "settings")).FullName;
        File.WriteAllText(Path.Combine(config, "key"), "value");

        // A pod whose whole volumes directory is a link (the kubelet never makes one) is not walked.
        const string other = "0a0b0c0d-2222-4333-8444-955566667777";
        Directory.CreateDirectory(_pods.Combine(other));
        File.CreateSymbolicLink(_pods.Combine(other, "volumes"), "/");

        var usage = new PodVolumeUsage(_pods.Path, TimeProvider.System);
        usage.Refresh();
        var volumes = usage.For(uid).OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        Assert.Equal(["scratch", "settings"], volumes.Select(v => v.Name));
        Assert.Equal(1024UL, volumes[0].UsedBytes);
        Assert.Equal(4UL, volumes[0].InodesUsed);   // scratch itself, a, sub, sub/b
        Assert.Equal(5UL, volumes[1].UsedBytes);
        Assert.Empty(usage.For(other));
    }

    public void Dispose() => _pods.Dispose();
}
