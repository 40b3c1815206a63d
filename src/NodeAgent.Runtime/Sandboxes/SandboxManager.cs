using NodeAgent.Runtime.Containers;
using NodeAgent.Cgroups;
using NodeAgent.Linux;
using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Sandboxes;

/// <summary>
/// Pod sandboxes without a process: the pod's network, IPC and UTS namespaces are created on a throw-away thread
/// and kept alive by bind-mounting their nsfs files; the pod-shared /dev/shm is a tmpfs; hostname and hosts files
/// are written for the containers to bind.
/// </summary>
public sealed class SandboxManager(RuntimePaths paths, ICgroupManager? cgroups, string shimPath, ExitWatcher exits)
{
    private static readonly (string Name, NamespaceKind Kind)[] PodNamespaces =
        [("net", NamespaceKind.Network), ("ipc", NamespaceKind.Ipc), ("uts", NamespaceKind.Uts)];

    public static string NewId() => RandomIds.NewHex(32);

    /// <summary>Creates sandbox <paramref name="id"/> (its directory may exist already: the caller locks it first).</summary>
    public SandboxRecord Create(string id, PodSandboxConfig config)
    {
        var dir = paths.Sandbox(id);
        var undo = new Stack<Action>();
        try
        {
            Directory.CreateDirectory(dir);
            undo.Push(() => Directory.Delete(dir, recursive: true));

            var nsDir = Path.Combine(dir, "ns");
            Directory.CreateDirectory(nsDir);
            var (pinned, pausePid) = PinNamespaces(config, nsDir, undo);

            string? shm = null;
            if (!config.HostIpc)
            {
                shm = Path.Combine(dir, "shm");
                Directory.CreateDirectory(shm);
                Mounts.Mount("shm", shm, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec,
                    $"mode=1777,size={config.ShmSizeBytes}");
                undo.Push(() => Mounts.Unmount(shm, detach: true));
            }

            var hostname = EffectiveHostname(config);
            var hostnamePath = Path.Combine(dir, "hostname");
            File.WriteAllText(hostnamePath, hostname + "\n");
            var hostsPath = Path.Combine(dir, "hosts");
            File.WriteAllText(hostsPath, PodDnsFiles.Hosts(hostname, config.HostnameFqdn, [], config.HostAliases));
            var resolvPath = Path.Combine(dir, "resolv.conf");
            File.WriteAllText(resolvPath, PodDnsFiles.ResolvConf(config.DnsConfig));

            if (cgroups is not null)
            {
                cgroups.CreateOrUpdate(config.CgroupParent, config.PodResources.ToCgroup());
            }

            var record = new SandboxRecord
            {
                Id = id,
                Config = config,
                CreatedAt = DateTimeOffset.UtcNow,
                NamespacePaths = pinned,
                ShmPath = shm,
                PausePid = pausePid,
                HostnamePath = hostnamePath,
                HostsPath = hostsPath,
                ResolvConfPath = resolvPath,
            };
            RecordFiles.Write(Path.Combine(dir, "sandbox.json"), record, RuntimeJsonContext.Default.SandboxRecord);
            return record;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CgroupException)
        {
            Rollback(undo);
            throw new RuntimeException(RuntimeErrorKind.SandboxError,
                $"pod {config.Namespace}/{config.Name}: create sandbox: {ex.Message}", ex);
        }
        catch
        {
            Rollback(undo);
            throw;
        }
    }

    public SandboxRecord? Get(string id) =>
        RuntimeIds.IsValid(id) ? RecordFiles.Read(Path.Combine(paths.Sandbox(id), "sandbox.json"), RuntimeJsonContext.Default.SandboxRecord) : null;

    public IReadOnlyList<SandboxRecord> List()
    {
        if (!Directory.Exists(paths.Sandboxes))
        {
            return [];
        }

        var result = new List<SandboxRecord>();
        foreach (var dir in Directory.EnumerateDirectories(paths.Sandboxes))
        {
            if (Get(Path.GetFileName(dir)) is { } record)
            {
                result.Add(record);
            }
        }

        return result;
    }

    /// <summary>Marks the sandbox NotReady and ends its pause process; namespaces and files stay until removal.</summary>
    public SandboxRecord MarkStopped(SandboxRecord record)
    {
        if (record.PausePid is { } pause)
        {
            KillPause(pause);
        }

        var stopped = record with { Stopped = true };
        RecordFiles.Write(Path.Combine(paths.Sandbox(record.Id), "sandbox.json"), stopped, RuntimeJsonContext.Default.SandboxRecord);
        return stopped;
    }

    /// <summary>Unpins the namespaces, unmounts shm, removes the pod cgroup and the directory. Idempotent.</summary>
    public void Remove(string id)
    {
        var dir = paths.Sandbox(id);
        if (!Directory.Exists(dir))
        {
            return;
        }

        var record = Get(id);
        if (record?.PausePid is { } pause)
        {
            KillPause(pause);
        }

        foreach (var mount in Mounts.ListUnder(dir))
        {
            Mounts.Unmount(mount, detach: true);
        }

        if (record is not null && cgroups is not null)
        {
            cgroups.Remove(record.Config.CgroupParent);
        }

        Directory.Delete(dir, recursive: true);
    }

    private (Dictionary<string, string> Pinned, int? PausePid) PinNamespaces(PodSandboxConfig config, string nsDir, Stack<Action> undo)
    {
        var sharePid = config.SharePid && !config.HostPid;
        NamespaceKind create = 0;
        if (!config.HostNetwork)
        {
            create |= NamespaceKind.Network;
        }

        if (!config.HostIpc)
        {
            create |= NamespaceKind.Ipc;
        }

        if (!config.HostNetwork)
        {
            // hostNetwork pods share the node's UTS namespace and so its hostname, as with kubelet.
            create |= NamespaceKind.Uts;
        }

        if (sharePid)
        {
            create |= NamespaceKind.Pid;
        }

        var hostname = EffectiveHostname(config);
        var sysctls = CheckedSysctls(config);
        var pinned = new Dictionary<string, string>();
        int? pausePid = null;
        Namespaces.RunOnDedicatedThread(() =>
        {
            Namespaces.Unshare(create);
            if ((create & NamespaceKind.Network) != 0)
            {
                Loopback.BringUp();
            }

            if ((create & NamespaceKind.Uts) != 0)
            {
                ProcessControl.SetHostname(hostname);
            }

            // As runc in the pod's pause container: on this thread, inside the pod's new net and ipc namespaces, so
            // /proc/sys resolves to the pod's parameters. A failure leaves nothing pinned: the namespaces die with the thread.
            foreach (var (name, value) in sysctls)
            {
                try
                {
                    Sysctls.Write(name, value);
                }
                catch (LinuxException ex)
                {
                    throw new IOException($"sysctl {name}={value}: {ex.Message}", ex);
                }
            }

            foreach (var (name, kind) in PodNamespaces)
            {
                if ((create & kind) == 0)
                {
                    continue;
                }

                var target = Path.Combine(nsDir, name);
                Namespaces.PinCurrent(kind, target);
                undo.Push(() => Mounts.Unmount(target, detach: true));
                pinned[name] = target;
            }

            if (sharePid)
            {
                // A PID namespace dies with its first process: the pause process is that process.
                var pid = StartPause();
                pausePid = pid;
                undo.Push(() => KillPause(pid));
                var target = Path.Combine(nsDir, "pid");
                if (!File.Exists(target))
                {
                    using (File.Create(target))
                    {
                    }
                }

                Mounts.Mount($"/proc/{pid}/ns/pid", target, null, MountFlags.Bind);
                undo.Push(() => Mounts.Unmount(target, detach: true));
                pinned["pid"] = target;
            }

            return true;
        });
        return (pinned, pausePid);
    }

    /// <summary>The pod's sysctls in dotted form, each checked again here (name, value, namespace) before any is written.</summary>
    private static List<(string Name, string Value)> CheckedSysctls(PodSandboxConfig config)
    {
        var checkedSysctls = new List<(string, string)>();
        foreach (var (raw, value) in config.Sysctls)
        {
            var name = SysctlNames.ToDotted(raw);
            if (SysctlNames.CheckForSandbox(name, value, config.HostNetwork, config.HostIpc) is { } problem)
            {
                throw new IOException(problem);
            }

            checkedSysctls.Add((name, value));
        }

        return checkedSysctls;
    }

    private int StartPause()
    {
        if (!File.Exists(shimPath))
        {
            throw new FileNotFoundException($"container shim not found at {shimPath} (needed for shareProcessNamespace)");
        }

        // posix_spawn, not System.Diagnostics.Process: this thread has unshared its PID namespace, where no thread
        // can be created (clone fails with EINVAL), and Process starts its SIGCHLD thread at its first use.
        using var devNull = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.ReadWrite);
        var fd = (int)devNull.DangerousGetHandle();
        var pid = ProcessSpawner.Spawn(shimPath, [shimPath, "pause"], [], new SpawnStdio(-1, fd, fd), [], newSession: true);
        var pidFd = PidFd.TryOpen(pid) ?? throw new IOException($"the pause process {pid} ended at once");
        _ = ReapAsync(pid, pidFd);
        return pid;
    }

    /// <summary>The pause process is this process's child until an agent restart: reap it when it ends.</summary>
    private async Task ReapAsync(int pid, PidFd pidFd)
    {
        using (pidFd)
        {
            try
            {
                await exits.WaitAsync(pidFd);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return; // the runtime is shutting down; the pause outlives it, as pods do
            }
        }

        ProcessSpawner.WaitForExit(pid);
    }

    private static void KillPause(int pid)
    {
        using var pidFd = PidFd.TryOpen(pid);
        try
        {
            if (pidFd is not null && File.ReadAllText($"/proc/{pid}/cmdline").Contains("pause", StringComparison.Ordinal))
            {
                pidFd.Signal(Signals.SIGKILL);
            }
        }
        catch (IOException)
        {
            // Already gone.
        }
    }

    private static string EffectiveHostname(PodSandboxConfig config)
    {
        if (config.HostNetwork)
        {
            return Environment.MachineName;
        }

        var name = string.IsNullOrEmpty(config.Hostname) ? config.Name : config.Hostname;
        return name.Length > 63 ? name[..63].TrimEnd('-', '.') : name;
    }

    /// <summary>Records the pod's addresses and writes them into its hosts file.</summary>
    public SandboxRecord SetPodIps(SandboxRecord record, IReadOnlyList<string> ips)
    {
        var updated = record with { PodIps = [.. ips] };
        File.WriteAllText(record.HostsPath, PodDnsFiles.Hosts(EffectiveHostname(record.Config), record.Config.HostnameFqdn, ips, record.Config.HostAliases));
        RecordFiles.Write(Path.Combine(paths.Sandbox(record.Id), "sandbox.json"), updated, RuntimeJsonContext.Default.SandboxRecord);
        return updated;
    }

    private static void Rollback(Stack<Action> undo)
    {
        while (undo.Count > 0)
        {
            try
            {
                undo.Pop()();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CgroupException)
            {
                // Best effort: the original error is what the caller needs to see.
            }
        }
    }

}
