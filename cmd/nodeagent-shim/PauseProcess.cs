using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>
/// <c>nodeagent-shim pause</c>: PID 1 of a pod's shared PID namespace (shareProcessNamespace). It holds the
/// namespace alive and, with SIGCHLD ignored, lets the kernel reap the orphans it inherits. SIGTERM ends it.
/// </summary>
internal static class PauseProcess
{
    public static int Run()
    {
        try
        {
            ProcessControl.SetSession();
        }
        catch (LinuxException)
        {
            // Already a session leader.
        }

        FileDescriptors.RedirectToDevNull(0, 1, 2);
        ProcessControl.AutoReapChildren();
        while (true)
        {
            ProcessControl.WaitForSignal();
        }
    }
}
