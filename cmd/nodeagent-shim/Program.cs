using NodeAgent.Shim;

// nodeagent-shim run <bundle-dir>            monitor: starts the container, keeps its stdio and exit status
// nodeagent-shim init <bundle-dir> <sync-fd>  container init: sets the container up inside its namespaces, then execs
// nodeagent-shim exec <bundle> <init-pidfd> <spec-fd> <sync-fd>  one exec into a running container
// nodeagent-shim exec-server <bundle> <init-pidfd> <spec-fd> <sync-fd> <socket-fd>  a container's resident exec helper
// nodeagent-shim pause                        PID 1 of a pod's shared PID namespace
if (args.Length >= 2 && args[0] == "run")
{
    return ShimMonitor.Run(args[1]);
}

if (args.Length >= 1 && args[0] == "pause")
{
    return PauseProcess.Run();
}

if (args.Length >= 3 && args[0] == "init")
{
    return ContainerInit.Run(args[1], int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
}

if (args.Length >= 5 && args[0] == "exec")
{
    var fds = args[2..5].Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    return ExecProcess.Run(args[1], fds[0], fds[1], fds[2]);
}

if (args.Length >= 6 && args[0] == "exec-server")
{
    var fds = args[2..6].Select(a => int.Parse(a, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    return ExecServer.Run(args[1], fds[0], fds[1], fds[2], fds[3]);
}

Console.Error.WriteLine("usage: nodeagent-shim run BUNDLE | init BUNDLE SYNC_FD | exec BUNDLE INIT_PIDFD SPEC_FD SYNC_FD | exec-server BUNDLE INIT_PIDFD SPEC_FD SYNC_FD SOCKET_FD | pause");
return 2;
