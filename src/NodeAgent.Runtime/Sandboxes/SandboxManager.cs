using System.Security.Cryptography;
using NodeAgent.Cgroups;
using NodeAgent.Linux;
using NodeAgent.Runtime.Cri;
using NodeAgent.Runtime.Persistence;

namespace NodeAgent.Runtime.Sandboxes;

/// <summary>
/// Pod sandboxes without a process: the pod's network, IPC and UTS namespaces are created on a throw-away thread
/// and kept alive by bind-mounting their nsfs files; the pod-shared /dev/shm is a tmpfs; hostname and hosts files
/// are written for the containers to bind.
/// </summary>
public sealed class SandboxManager(RuntimePaths paths, ICgroupManager? cgroups)
{
    private static readonly (string Name, NamespaceKind Kind)[] PodNamespaces =
        [("net", NamespaceKind.Network), ("ipc", NamespaceKind.Ipc), ("uts", NamespaceKind.Uts)];

    public SandboxRecord Create(PodSandboxConfig config)
    {
        if (config.SharePid && !config.HostPid)
        {
            throw new RuntimeException(RuntimeErrorKind.InvalidArgument,
                $"pod {config.Namespace}/{config.Name}: shareProcessNamespace is not supported by this runtime yet");
        }

        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var dir = paths.Sandbox(id);
        var undo = new Stack<Action>();
        try
        {
            Directory.CreateDirectory(dir);
            undo.Push(() => Directory.Delete(dir, recursive: true));

            var nsDir = Path.Combine(dir, "ns");
            Directory.CreateDirectory(nsDir);
            var pinned = PinNamespaces(config, nsDir, undo);

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
            File.WriteAllText(hostsPath, HostsFile(hostname));
            var resolvPath = Path.Combine(dir, "resolv.conf");
            File.WriteAllText(resolvPath, File.Exists("/etc/resolv.conf") ? File.ReadAllText("/etc/resolv.conf") : string.Empty);

            if (cgroups is not null)
            {
                cgroups.CreateOrUpdate(config.CgroupParent, config.PodResources);
            }

            var record = new SandboxRecord
            {
                Id = id,
                Config = config,
                CreatedAt = DateTimeOffset.UtcNow,
                NamespacePaths = pinned,
                ShmPath = shm,
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

    public void MarkStopped(SandboxRecord record) =>
        RecordFiles.Write(Path.Combine(paths.Sandbox(record.Id), "sandbox.json"), record with { Stopped = true }, RuntimeJsonContext.Default.SandboxRecord);

    /// <summary>Unpins the namespaces, unmounts shm, removes the pod cgroup and the directory. Idempotent.</summary>
    public void Remove(string id)
    {
        var dir = paths.Sandbox(id);
        if (!Directory.Exists(dir))
        {
            return;
        }

        var record = Get(id);
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

    private static Dictionary<string, string> PinNamespaces(PodSandboxConfig config, string nsDir, Stack<Action> undo)
    {
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

        var hostname = EffectiveHostname(config);
        var pinned = new Dictionary<string, string>();
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

            return true;
        });
        return pinned;
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

    private static string HostsFile(string hostname) =>
        $"# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
        $"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n127.0.1.1\t{hostname}\n";

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
