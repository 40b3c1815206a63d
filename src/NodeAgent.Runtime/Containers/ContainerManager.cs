using NodeAgent.Cgroups;
using NodeAgent.Images;
using NodeAgent.Linux;
using NodeAgent.Cri;
using NodeAgent.Runtime.Persistence;
using NodeAgent.Runtime.Seccomp;
using NodeAgent.Runtime.Supervision;

namespace NodeAgent.Runtime.Containers;

/// <summary>
/// Creates and removes containers on disk: the writable layer and its overlay mount, the cgroup, the spec the shim
/// runs, the record. A failed create leaves nothing behind.
/// </summary>
public sealed class ContainerManager(RuntimePaths paths, RuntimeOptions options, IImageStore images, ISnapshotter snapshotter, ICgroupManager? cgroups)
{
    // container.json never changes after creation: parse each once. Listing still reads the directory, so containers
    // made by another process on the same root appear, and removed ones disappear.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ContainerRecord> _records = new();

    // Seccomp programs compiled once per profile content and capability set (Localhost profiles under <root>/seccomp).
    private readonly SeccompFilters _seccomp = new(Path.Combine(options.RootDir, "seccomp"));

    public async Task<ContainerRecord> CreateAsync(SandboxRecord sandbox, ContainerConfig config, CancellationToken cancellationToken)
    {
        var image = images.Resolve(config.Image)
            ?? throw new RuntimeException(RuntimeErrorKind.NotFound, $"container {config.Name}: image \"{config.Image}\" not found in the image store");
        var stopSignal = StopSignalFor(config, image);

        var id = RandomIds.NewHex(32);
        var dir = paths.Container(id);
        var rootfs = paths.ContainerRootfs(id);
        var cgroupPath = $"{sandbox.Config.CgroupParent}/{id}";
        var undo = new Stack<Action>();
        try
        {
            Directory.CreateDirectory(rootfs);
            // Never delete through a mount that failed to go (a subPath staging mount holds a volume's content).
            undo.Push(() =>
            {
                if (Mounts.ListUnder(dir).Count == 0)
                {
                    Directory.Delete(dir, recursive: true);
                }
            });

            // First, before any slow work: a propagating mount whose source cannot propagate, or a subPath that cannot
            // be prepared, is a configuration error.
            MountPropagationCheck.Ensure(config.Mounts);
            var mounts = SubPathMounts.Prepare(dir, config, undo);

            var lowers = await snapshotter.EnsureLayersAsync(image, cancellationToken);
            var overlay = snapshotter.PrepareContainer(id, lowers);
            undo.Push(() => snapshotter.RemoveContainer(id));
            Mounts.Mount("overlay", rootfs, "overlay", MountFlags.None, overlay.Options);
            undo.Push(() => Mounts.Unmount(rootfs, detach: true));

            IReadOnlyList<string> procs = [];
            if (cgroups is not null)
            {
                // Undo first: CreateOrUpdate may make the directories and then fail on a limit.
                undo.Push(() => cgroups.Remove(cgroupPath));
                var resources = config.Resources.ToCgroup(config.Security.Privileged ? null : DefaultDevices.Rules);
                var cgroup = cgroups.CreateOrUpdate(cgroupPath, resources);
                procs = cgroup.ProcsFiles;
            }

            var logPath = Path.Combine(sandbox.Config.LogDirectory, config.LogPath);
            Directory.CreateDirectory(Path.GetDirectoryName(logPath)!);

            var spec = ContainerSpecBuilder.Build(new ContainerSpecBuilder.Inputs(
                id, rootfs, image.Config, config with { Mounts = mounts }, sandbox, procs, logPath, options.ContainerLogMaxSizeBytes, options.ContainerLogMaxFiles));
            spec.SeccompFilter = _seccomp.Write(id, dir, config.Security, spec.Process.Capabilities);
            Bundle.WriteSpec(dir, spec);

            var record = new ContainerRecord
            {
                Id = id,
                SandboxId = sandbox.Id,
                Config = config,
                ImageRef = image.RepoTags.FirstOrDefault() ?? config.Image,
                ImageId = image.Id,
                CreatedAt = DateTimeOffset.UtcNow,
                Command = spec.Process.Args,
                LogPath = logPath,
                StopSignal = stopSignal,
                CgroupPath = cgroupPath,
            };
            RecordFiles.Write(Path.Combine(dir, "container.json"), record, RuntimeJsonContext.Default.ContainerRecord);
            return record;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CgroupException or ImageException)
        {
            Rollback(undo);
            throw new RuntimeException(RuntimeErrorKind.CreateContainerError, $"container {config.Name} (image {config.Image}): {ex.Message}", ex);
        }
        catch
        {
            Rollback(undo);
            throw;
        }
    }

    public ContainerRecord? Get(string id)
    {
        if (!RuntimeIds.IsValid(id))
        {
            return null;
        }

        var path = Path.Combine(paths.Container(id), "container.json");
        if (_records.TryGetValue(id, out var cached))
        {
            if (File.Exists(path))
            {
                return cached;
            }

            _records.TryRemove(id, out _);
            return null;
        }

        var record = RecordFiles.Read(path, RuntimeJsonContext.Default.ContainerRecord);
        if (record is not null)
        {
            _records[id] = record;
        }

        return record;
    }

    public IReadOnlyList<ContainerRecord> List()
    {
        if (!Directory.Exists(paths.Containers))
        {
            return [];
        }

        var result = new List<ContainerRecord>();
        foreach (var dir in Directory.EnumerateDirectories(paths.Containers))
        {
            if (Get(Path.GetFileName(dir)) is { } record)
            {
                result.Add(record);
            }
        }

        return result;
    }

    /// <summary>Unmounts the rootfs and the subPath staging mounts, removes the cgroup, the writable layer and the directory. The container must not run.</summary>
    public void Remove(ContainerRecord record)
    {
        var dir = paths.Container(record.Id);
        foreach (var mount in Mounts.ListUnder(dir))
        {
            Mounts.Unmount(mount, detach: true);
        }

        cgroups?.Remove(record.CgroupPath);
        snapshotter.RemoveContainer(record.Id);
        _records.TryRemove(record.Id, out _);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public long OomKills(ContainerRecord record)
    {
        try
        {
            return cgroups?.Open(record.CgroupPath)?.OomKillCount() ?? 0;
        }
        catch (Exception ex) when (ex is IOException or CgroupException)
        {
            return 0;
        }
    }

    /// <summary>
    /// The signal the container's stop sends first: the config's (<c>lifecycle.stopSignal</c>), else the image's
    /// STOPSIGNAL, else SIGTERM, as containerd picks it. A STOPSIGNAL that is not a signal fails the create (Docker
    /// refuses it at create too; containerd would fail every later stop instead).
    /// </summary>
    private static int StopSignalFor(ContainerConfig config, ImageRecord image)
    {
        if (config.StopSignal is { } wanted)
        {
            return wanted is > 0 and <= Signals.SIGRTMAX ? wanted
                : throw new RuntimeException(RuntimeErrorKind.CreateContainerConfigError, $"container {config.Name}: stop signal {wanted} is not a signal (1-{Signals.SIGRTMAX})");
        }

        if (string.IsNullOrEmpty(image.Config.StopSignal))
        {
            return Signals.SIGTERM;
        }

        return Signals.Parse(image.Config.StopSignal)
            ?? throw new RuntimeException(RuntimeErrorKind.CreateContainerError,
                $"container {config.Name} (image {config.Image}): the image's STOPSIGNAL {Quote(image.Config.StopSignal)} is not a signal (a name such as SIGTERM or TERM, or a number 1-{Signals.SIGRTMAX})");
    }

    // The image's text goes into a status message: quoted, control characters escaped, at most 32 characters.
    private static string Quote(string text) =>
        "\"" + System.Text.Json.JsonEncodedText.Encode(text.Length > 32 ? text[..32] : text) + (text.Length > 32 ? "…\"" : "\"");

    private static void Rollback(Stack<Action> undo)
    {
        while (undo.Count > 0)
        {
            try
            {
                undo.Pop()();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CgroupException or ImageException)
            {
                // Best effort; the original error is reported.
            }
        }
    }
}
