using NodeAgent.Runtime;

namespace NodeAgent.Tests.Runtime;

public class SignalsTests
{
    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("TERM", 15)]
    [InlineData("sigquit", 3)]
    [InlineData("9", 9)]
    [InlineData("SIGWINCH", 28)]
    public void ParsesStopSignals(string text, int expected) => Assert.Equal(expected, Signals.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("SIGNOPE")]
    [InlineData("99")]
    public void RejectsUnknown(string? text) => Assert.Null(Signals.Parse(text));
}
