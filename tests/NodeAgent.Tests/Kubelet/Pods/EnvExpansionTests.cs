using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Tests.Kubelet.Pods;

public class EnvExpansionTests
{
    private static string? Lookup(string name) => name switch
    {
        "A" => "alpha",
        "EMPTY" => "",
        _ => null,
    };

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("$(A)", "alpha")]
    [InlineData("x-$(A)-y", "x-alpha-y")]
    [InlineData("$(MISSING)", "$(MISSING)")]
    [InlineData("$$(A)", "$(A)")]
    [InlineData("$$$(A)", "$alpha")]
    [InlineData("$(EMPTY)x", "x")]
    [InlineData("$(A", "$(A")]
    [InlineData("cost: $5", "cost: $5")]
    [InlineData("$()", "$()")]
    [InlineData("trailing $", "trailing $")]
    public void ExpandsLikeKubernetes(string input, string expected) =>
        Assert.Equal(expected, EnvExpansion.Expand(input, Lookup));
}
