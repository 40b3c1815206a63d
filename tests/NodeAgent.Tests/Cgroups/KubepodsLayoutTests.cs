using NodeAgent.Runtime.Containers;
using NodeAgent.Cgroups;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Cgroups;

public sealed class KubepodsLayoutTests
{
    [Theory]
    [InlineData(QosClass.Guaranteed, "kubepods/pod123")]
    [InlineData(QosClass.Burstable, "kubepods/burstable/pod123")]
    [InlineData(QosClass.BestEffort, "kubepods/besteffort/pod123")]
    public void Pod_paths_match_kubelet_cgroupfs_names(QosClass qos, string expected)
    {
        Assert.Equal(expected, KubepodsLayout.PodPath(qos, "123"));
        Assert.Equal(expected + "/c1", KubepodsLayout.ContainerPath(expected, "c1"));
    }

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(100, 102)]
    [InlineData(250, 256)]
    [InlineData(1000, 1024)]
    [InlineData(1000000, 262144)]
    public void Shares_from_milli_cpu_request(long milli, long shares)
    {
        Assert.Equal(shares, KubepodsLayout.MilliCpuToShares(milli));
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(5, 1000L)]
    [InlineData(10, 1000L)]
    [InlineData(250, 25000L)]
    [InlineData(1500, 150000L)]
    public void Quota_from_milli_cpu_limit_with_1000us_minimum(long milli, long? quota)
    {
        Assert.Equal(quota, KubepodsLayout.MilliCpuToQuota(milli));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1024, 39)]
    [InlineData(262144, 10000)]
    public void Weight_from_shares(long shares, long weight)
    {
        Assert.Equal(weight, CpuWeight.FromShares(shares));
    }

    [Fact]
    public void BestEffort_gets_minimum_shares_and_no_quota()
    {
        CgroupResources r = KubepodsLayout.Resources(QosClass.BestEffort, 500, 0, null).ToCgroup();
        Assert.Equal(2, r.CpuShares);
        Assert.Null(r.CpuQuotaMicros);
        Assert.Equal(100_000, r.CpuPeriodMicros);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Names_with_slashes_or_dots_are_refused(string uid)
    {
        Assert.Throws<ArgumentException>(() => KubepodsLayout.PodPath(QosClass.Burstable, uid));
    }
}
