using NodeAgent.Linux;

namespace NodeAgent.Shim;

/// <summary>
/// Runs inside the container's namespaces as its first process: joins the cgroups, builds the mount namespace,
/// pivots into the root filesystem, applies identity and capabilities, then execs the container command.
/// Any failure is written to the sync pipe and the init exits without running the command.
/// </summary>
internal static class ContainerInit
{
    public static int Run(string bundle, int syncFd)
    {
        try
        {
            FileDescriptors.SetCloseOnExec(syncFd, true);
            var spec = Bundle.LoadSpec(bundle);
            var seccomp = SeccompStage.Load(bundle, spec);
            foreach (var procs in spec.CgroupProcsFiles)
            {
                ProcessControl.JoinCgroup(procs);
            }

            var lastCap = Capabilities.LastCap();
            RootfsSetup.Prepare(spec);
            Mounts.PivotRoot(spec.Rootfs);
            RootfsSetup.ProtectKernelPaths(spec);
            if (spec.ReadonlyRootfs)
            {
                Mounts.Mount(null, "/", null, MountFlags.Bind | MountFlags.Remount | MountFlags.ReadOnly);
            }

            Directory.CreateDirectory(spec.Process.Cwd);
            return ProcessImage.Replace(spec, spec.Process.Args, spec.Process.Env, lastCap, seccomp, syncFd);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or InvalidDataException)
        {
            SyncPipe.Report(syncFd, ex.Message);
            return 127;
        }
        catch (Exception ex)
        {
            SyncPipe.Report(syncFd, "container init failed: " + ex);
            return 127;
        }
    }
}
