using NodeAgent.Cri;

namespace NodeAgent.Tests.Runtime;

/// <summary>Stop signals as containerd parses an image's STOPSIGNAL (moby's ParseSignal): names with or without SIG
/// in any case, numbers, aliases and the real-time forms; anything else is refused.</summary>
public class SignalsTests
{
    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("TERM", 15)]
    [InlineData("15", 15)]
    [InlineData("sigquit", 3)]
    [InlineData("9", 9)]
    [InlineData("SIGWINCH", 28)]
    [InlineData("SIGUSR1", 10)]
    [InlineData("IOT", 6)]
    [InlineData("SIGCLD", 17)]
    [InlineData("SIGPOLL", 29)]
    [InlineData("SIGRTMIN", 34)]
    [InlineData("RTMIN+3", 37)]
    [InlineData("SIGRTMAX-1", 63)]
    [InlineData("SIGRTMAX", 64)]
    [InlineData("64", 64)]
    public void ParsesStopSignals(string text, int expected) => Assert.Equal(expected, Signals.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("SIGNOPE")]
    [InlineData("99")]
    [InlineData("0")]
    [InlineData("-15")]
    [InlineData("+15")]
    [InlineData(" 15")]
    [InlineData("SIGTERM ")]
    [InlineData("SIG")]
    [InlineData("RTMIN+16")]
    [InlineData("RTMAX-15")]
    [InlineData("RTMIN+01")]
    [InlineData("SIGRTMIN+")]
    [InlineData("99999999999999999999")]
    [InlineData("١٥")]
    public void RejectsWhatIsNotASignal(string? text) => Assert.Null(Signals.Parse(text));

    [Theory]
    [InlineData(15, "SIGTERM")]
    [InlineData(31, "SIGSYS")]
    [InlineData(34, "SIGRTMIN")]
    [InlineData(35, "SIGRTMIN+1")]
    [InlineData(49, "SIGRTMIN+15")]
    [InlineData(50, "SIGRTMAX-14")]
    [InlineData(64, "SIGRTMAX")]
    public void NamesSignalsAsTheApiSpellsThem(int signal, string name)
    {
        Assert.Equal(name, Signals.Name(signal));
        Assert.Equal(signal, Signals.Parse(name));
    }
}
