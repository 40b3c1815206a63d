using NodeAgent.Linux;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Linux;

/// <summary>
/// libseccomp compiles, the kernel enforces: a program exported by <see cref="SeccompCompiler"/> and installed by
/// <see cref="SeccompFilter"/> on one thread of this process (seccomp filters without TSYNC bind that thread only,
/// which then ends) makes the denied call fail with the rule's errno, and leaves other calls and threads alone.
/// </summary>
public sealed class SeccompFilterTests : IDisposable
{
    private readonly TempDir _dir = new();

    private static SeccompFilterSpec DenyMkdir(ushort errno, params SeccompCondition[] conditions) =>
        new(SeccompAction.Allow, ["x86_64", "x86", "x32"],
            [new SeccompRule(["mkdir", "mkdirat"], SeccompAction.Errno(errno), conditions)]);

    /// <summary>Runs <paramref name="body"/> on a new thread that installs <paramref name="program"/> first.</summary>
    private static T OnFilteredThread<T>(byte[] program, Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                SeccompFilter.Install(program);
                result = body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new InvalidOperationException("filtered thread failed", failure);
    }

    [Fact]
    public void TheDefaultActionAndRulesCompileToWholeInstructions()
    {
        var program = SeccompCompiler.Compile(DenyMkdir(13));
        Assert.NotEmpty(program.Instructions);
        Assert.Equal(0, program.Instructions.Length % SeccompFilter.InstructionSize);
        Assert.Empty(program.UnknownSyscalls);
    }

    [Fact]
    public void NamesLibseccompDoesNotKnowAreSkippedAndReported()
    {
        var spec = new SeccompFilterSpec(SeccompAction.Errno(1), [], [new SeccompRule(["read", "no_such_syscall_x"], SeccompAction.Allow, [])]);
        Assert.Equal(["no_such_syscall_x"], SeccompCompiler.Compile(spec).UnknownSyscalls);
    }

    [Fact]
    public void AnUnknownArchitectureIsRefusedByName()
    {
        var spec = new SeccompFilterSpec(SeccompAction.Allow, ["vax"], []);
        Assert.Contains("\"vax\"", Assert.Throws<ArgumentException>(() => SeccompCompiler.Compile(spec)).Message);
    }

    [Fact]
    public void AConditionPastTheSixthArgumentIsRefused()
    {
        var spec = DenyMkdir(13, new SeccompCondition(6, SeccompOperator.EqualTo, 0));
        Assert.Throws<ArgumentException>(() => SeccompCompiler.Compile(spec));
    }

    [Fact]
    public void AProgramThatIsNotWholeInstructionsIsRefusedBeforeTheKernel()
    {
        Assert.Throws<InvalidDataException>(() => SeccompFilter.Install(new byte[7]));
        Assert.Throws<InvalidDataException>(() => SeccompFilter.Install([]));
    }

    [PrivilegedFact]
    public void TheInstalledFilterFailsTheDeniedCallWithItsErrnoOnThatThreadOnly()
    {
        var program = SeccompCompiler.Compile(DenyMkdir(122)).Instructions; // EDQUOT: no other cause could give it
        var denied = _dir.Combine("denied");
        var (error, status) = OnFilteredThread(program, () =>
        {
            var e = Record.Exception(() => Directory.CreateDirectory(denied));
            return (e, File.ReadAllLines("/proc/thread-self/status").Single(l => l.StartsWith("Seccomp:", StringComparison.Ordinal)));
        });
        Assert.IsAssignableFrom<IOException>(error);
        Assert.Contains("Disk quota exceeded", error!.Message);
        Assert.Equal("Seccomp:\t2", status);
        Assert.False(Directory.Exists(denied));

        // This thread has no filter.
        Directory.CreateDirectory(denied);
        Assert.True(Directory.Exists(denied));
    }

    [PrivilegedFact]
    public void ArgumentConditionsSelectTheCallsTheRuleApplies()
    {
        // Deny only modes 0700 and 0755 (mkdir's argument 1, mkdirat's 2). Two conditions on one argument cannot
        // both hold: they become one rule each, so either mode is denied, as runc does.
        SeccompCondition[] Modes(uint index) => [new(index, SeccompOperator.EqualTo, 0x1c0), new(index, SeccompOperator.EqualTo, 0x1ed)];
        var spec = new SeccompFilterSpec(SeccompAction.Allow, [],
            [new SeccompRule(["mkdir"], SeccompAction.Errno(122), Modes(1)), new SeccompRule(["mkdirat"], SeccompAction.Errno(122), Modes(2))]);
        var program = SeccompCompiler.Compile(spec).Instructions;
        var results = OnFilteredThread(program, () => new[]
        {
            Record.Exception(() => Directory.CreateDirectory(_dir.Combine("a"), (UnixFileMode)0x1c0)) is null,
            Record.Exception(() => Directory.CreateDirectory(_dir.Combine("b"), (UnixFileMode)0x1ed)) is null,
            Record.Exception(() => Directory.CreateDirectory(_dir.Combine("c"), (UnixFileMode)0x1f8)) is null,
        });
        Assert.Equal([false, false, true], results);
    }

    public void Dispose() => _dir.Dispose();
}
