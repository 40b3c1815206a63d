namespace NodeAgent.Tests.Support;

/// <summary>
/// A test that needs root and the real kernel. It runs everywhere (CI is root) and is skipped only when
/// NODEAGENT_SKIP_PRIVILEGED=1 is set; without root and without that variable it fails loudly.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PrivilegedFactAttribute : FactAttribute
{
    public PrivilegedFactAttribute()
    {
        if (Privileged.SkipRequested)
        {
            Skip = "NODEAGENT_SKIP_PRIVILEGED=1";
        }
    }
}

[AttributeUsage(AttributeTargets.Method)]
public sealed class PrivilegedTheoryAttribute : TheoryAttribute
{
    public PrivilegedTheoryAttribute()
    {
        if (Privileged.SkipRequested)
        {
            Skip = "NODEAGENT_SKIP_PRIVILEGED=1";
        }
    }
}

public static class Privileged
{
    public static bool SkipRequested => Environment.GetEnvironmentVariable("NODEAGENT_SKIP_PRIVILEGED") == "1";
}
