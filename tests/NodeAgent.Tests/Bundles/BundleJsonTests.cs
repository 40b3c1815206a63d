using System.Text;
using NodeAgent.ContainerSpec;

namespace NodeAgent.Tests.Bundles;

/// <summary>
/// The hand-written JSON of the bundle files: everything written reads back, files in the format the earlier
/// source-generated serializer wrote still read, and bad input is an <see cref="InvalidDataException"/> that names
/// the file and the property.
/// </summary>
public sealed class BundleJsonTests
{
    private static ContainerSpec.ContainerSpec FullSpec() => new()
    {
        Id = "c1",
        Rootfs = "/var/lib/nodeagent/containers/c1/rootfs",
        Process = new ProcessSpec
        {
            Args = ["sh", "-c", "echo \"ü\" \\ $HOME\n"],
            Env = ["PATH=/bin", "EMPTY="],
            Cwd = "/work",
            Uid = 4294967294,
            Gid = 65534,
            AdditionalGids = [1, 2, 4294967295],
            Capabilities = ["CHOWN", "KILL"],
            NoNewPrivileges = true,
            OomScoreAdj = -997,
        },
        Hostname = "web-0",
        Namespaces = [new NamespaceSpec { Type = "net", Path = "/run/netns/x" }, new NamespaceSpec { Type = "pid" }],
        Mounts =
        [
            new MountSpec { Destination = "/proc", Type = "proc", Source = "proc", Options = ["nosuid"] },
            new MountSpec { Destination = "/data", Type = "bind", Source = "/var/lib/x", Options = ["rbind", "ro", "rslave"] },
            new MountSpec { Destination = "/tmp", Type = "tmpfs" },
        ],
        RootPropagation = "rshared",
        MaskedPaths = ["/proc/kcore"],
        ReadonlyPaths = ["/proc/sys"],
        CgroupProcsFiles = ["/sys/fs/cgroup/memory/kubepods/c1/cgroup.procs"],
        Privileged = true,
        ReadonlyRootfs = true,
        Log = new LogSpec { Path = "/var/log/pods/p/c/0.log", MaxSizeBytes = 5_000_000_000, MaxFiles = 3 },
        SeccompFilter = "seccomp.bpf",
    };

    [Fact]
    public void AFullSpecReadsBackFieldByField()
    {
        var written = BundleJson.Write(FullSpec());
        var read = BundleJson.ReadContainerSpec(written, "config.json");

        var expected = FullSpec();
        Assert.Equal((expected.Id, expected.Rootfs, expected.Hostname, expected.RootPropagation), (read.Id, read.Rootfs, read.Hostname, read.RootPropagation));
        Assert.Equal(expected.Process.Args, read.Process.Args);
        Assert.Equal(expected.Process.Env, read.Process.Env);
        Assert.Equal((expected.Process.Cwd, expected.Process.Uid, expected.Process.Gid), (read.Process.Cwd, read.Process.Uid, read.Process.Gid));
        Assert.Equal(expected.Process.AdditionalGids, read.Process.AdditionalGids);
        Assert.Equal(expected.Process.Capabilities, read.Process.Capabilities);
        Assert.Equal((true, (int?)-997), (read.Process.NoNewPrivileges, read.Process.OomScoreAdj));
        Assert.Equal([("net", "/run/netns/x"), ("pid", null)], read.Namespaces.Select(n => (n.Type, n.Path)));
        Assert.Equal(
            expected.Mounts.Select(m => (m.Destination, m.Type, m.Source, string.Join(',', m.Options))),
            read.Mounts.Select(m => (m.Destination, m.Type, m.Source, string.Join(',', m.Options))));
        Assert.Equal(expected.MaskedPaths, read.MaskedPaths);
        Assert.Equal(expected.ReadonlyPaths, read.ReadonlyPaths);
        Assert.Equal(expected.CgroupProcsFiles, read.CgroupProcsFiles);
        Assert.Equal((true, true, "seccomp.bpf"), (read.Privileged, read.ReadonlyRootfs, read.SeccompFilter));
        Assert.Equal(("/var/log/pods/p/c/0.log", 5_000_000_000L, 3), (read.Log!.Path, read.Log.MaxSizeBytes, read.Log.MaxFiles));

        // Writing what was read gives the same bytes: nothing is lost or reordered on the way.
        Assert.Equal(written, BundleJson.Write(read));
    }

    [Fact]
    public void AMinimalSpecKeepsTheDefaults()
    {
        var read = BundleJson.ReadContainerSpec("""{"id":"c","rootfs":"/r","process":{"args":["true"]},"log":{"path":"/l"}}"""u8, "config.json");
        Assert.Equal(("/", (int?)null, (string?)null), (read.Process.Cwd, read.Process.OomScoreAdj, read.Hostname));
        Assert.Empty(read.Mounts);
        Assert.Empty(read.Namespaces);
        Assert.Equal((10 * 1024 * 1024L, 5), (read.Log!.MaxSizeBytes, read.Log.MaxFiles));
    }

    [Fact]
    public void FilesInTheEarlierSerializersFormatStillRead()
    {
        // As System.Text.Json's source generator wrote them (indented, camelCase, nulls left out).
        var config = """
            {
              "id": "f8972bcd",
              "rootfs": "/tmp/root/containers/f8972bcd/rootfs",
              "process": {
                "args": [
                  "sh",
                  "-c",
                  "echo READY; exec sleep 100000"
                ],
                "env": [
                  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                  "HOSTNAME=one-bench"
                ],
                "cwd": "/",
                "uid": 0,
                "gid": 0,
                "additionalGids": [
                  0
                ],
                "capabilities": [
                  "CHOWN"
                ],
                "noNewPrivileges": false
              },
              "namespaces": [
                {
                  "type": "mnt"
                },
                {
                  "type": "net",
                  "path": "/tmp/root/sandboxes/2f8a/ns/net"
                }
              ],
              "mounts": [
                {
                  "destination": "/dev",
                  "type": "tmpfs",
                  "source": "tmpfs",
                  "options": [
                    "nosuid",
                    "mode=755"
                  ]
                }
              ],
              "maskedPaths": [],
              "readonlyPaths": [],
              "cgroupProcsFiles": [],
              "privileged": false,
              "readonlyRootfs": false,
              "log": {
                "path": "/tmp/logs/default_one-bench_x/main/0.log",
                "maxSizeBytes": 10485760,
                "maxFiles": 5
              }
            }
            """;
        var spec = BundleJson.ReadContainerSpec(Encoding.UTF8.GetBytes(config), "config.json");
        Assert.Equal(["sh", "-c", "echo READY; exec sleep 100000"], spec.Process.Args);
        Assert.Equal("/tmp/root/sandboxes/2f8a/ns/net", spec.Namespaces[1].Path);
        Assert.Equal(["nosuid", "mode=755"], spec.Mounts[0].Options);
        Assert.Equal(10485760, spec.Log!.MaxSizeBytes);

        var state = BundleJson.ReadShimState("""
            {
              "shimPid": 4242,
              "pid": 4250,
              "startedAt": "2026-12-02T17:05:01.1234567+00:00"
            }
            """u8, "state.json");
        Assert.Equal((4242, 4250), (state.ShimPid, state.Pid));
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 17, 5, 1, TimeSpan.Zero).AddTicks(1234567), state.StartedAt);

        var exit = BundleJson.ReadExitStatus("""{ "exitCode": 137, "exitedAt": "2026-12-02T17:05:09+01:00", "startError": "exec foo: No such file" }"""u8, "exit.json");
        Assert.Equal((137, "exec foo: No such file", TimeSpan.FromHours(1)), (exit.ExitCode, exit.StartError, exit.ExitedAt.Offset));
    }

    [Fact]
    public void TheSmallRecordsReadBack()
    {
        var at = new DateTimeOffset(2026, 12, 2, 17, 5, 1, TimeSpan.Zero).AddTicks(7);
        var state = BundleJson.ReadShimState(BundleJson.Write(new ShimState { ShimPid = 1, Pid = 2, StartedAt = at }), "s");
        Assert.Equal((1, 2, at), (state.ShimPid, state.Pid, state.StartedAt));

        var exit = BundleJson.ReadExitStatus(BundleJson.Write(new ExitStatus { ExitCode = 1, ExitedAt = at }), "e");
        Assert.Equal((1, at, (string?)null), (exit.ExitCode, exit.ExitedAt, exit.StartError));

        var reply = BundleJson.Write(new ShimReply { Error = "line one\nline two" });
        Assert.DoesNotContain((byte)'\n', reply);
        Assert.Equal((0, "line one\nline two"), (BundleJson.ReadShimReply(reply, "r").Pid, BundleJson.ReadShimReply(reply, "r").Error));

        var exec = BundleJson.ReadExecSpec(BundleJson.Write(new ExecSpec { Args = ["cat"], Env = ["A=b"], Tty = true, Columns = 132, Rows = 43 }), "x");
        Assert.Equal(["cat"], exec.Args);
        Assert.Equal(["A=b"], exec.Env);
        Assert.Equal((true, (ushort)132, (ushort)43), (exec.Tty, exec.Columns, exec.Rows));
    }

    [Fact]
    public void UnknownPropertiesAreSkippedWhateverTheyHold()
    {
        var spec = BundleJson.ReadContainerSpec(
            """{"future":{"a":[1,{"b":null}]},"id":"c","rootfs":"/r","process":{"args":["true"],"later":[[]]},"more":"x"}"""u8,
            "config.json");
        Assert.Equal(("c", "/r"), (spec.Id, spec.Rootfs));
        Assert.Equal(["true"], spec.Process.Args);
    }

    [Theory]
    [InlineData("""{"rootfs":"/r","process":{"args":["true"]}}""", "config.json: id is missing")]
    [InlineData("""{"id":"c","rootfs":"/r"}""", "config.json: process is missing")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{}}""", "config.json: process.args is missing")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{"args":["true"]},"mounts":[{"type":"bind"}]}""", "config.json: mounts[].destination is missing")]
    [InlineData("""{"id":7,"rootfs":"/r","process":{"args":["true"]}}""", "config.json: id is a number, not a string")]
    [InlineData("""{"id":null,"rootfs":"/r","process":{"args":["true"]}}""", "config.json: id is null")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{"args":["true",1]}}""", "config.json: process.args holds a number, not only strings")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{"args":["true"],"uid":-1}}""", "config.json: process.uid is not an integer from 0 to 4294967295")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{"args":["true"],"oomScoreAdj":1.5}}""", "config.json: process.oomScoreAdj is not a 32-bit integer")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{"args":["true"]},"privileged":"yes"}""", "config.json: privileged is a string, not true or false")]
    [InlineData("""{"id":"c","rootfs":"/r","process":[]}""", "config.json: the process is an array, not an object")]
    [InlineData("""[]""", "config.json: the container spec is an array, not an object")]
    public void BadSpecsNameTheFileAndTheProperty(string json, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => BundleJson.ReadContainerSpec(Encoding.UTF8.GetBytes(json), "config.json"));
        Assert.Equal(message, ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("""{"id":"c",""")]
    [InlineData("""{"id":"c" "rootfs":"/r"}""")]
    [InlineData("""{"a":[[[[[[[[[[[[1]]]]]]]]]]]]}""")]
    [InlineData("""{"id":"c","rootfs":"/r","process":{"args":["true"]}} {}""")]
    public void MalformedJsonIsInvalidData(string json)
    {
        var ex = Assert.Throws<InvalidDataException>(() => BundleJson.ReadContainerSpec(Encoding.UTF8.GetBytes(json), "config.json"));
        Assert.StartsWith("config.json: ", ex.Message);
    }

    [Fact]
    public void AnExecSpecWithATerminalSizeOutOfRangeIsRefused()
    {
        var ex = Assert.Throws<InvalidDataException>(() => BundleJson.ReadExecSpec("""{"args":["sh"],"columns":65536}"""u8, "exec request"));
        Assert.Equal("exec request: columns is not an integer from 0 to 65535", ex.Message);
        Assert.Equal("exec request: args is missing", Assert.Throws<InvalidDataException>(() => BundleJson.ReadExecSpec("{}"u8, "exec request")).Message);
    }
}
