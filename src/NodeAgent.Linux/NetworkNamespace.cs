namespace NodeAgent.Linux;

/// <summary>
/// Work inside a network namespace given by its nsfs path (a pinned bind mount or /proc/PID/ns/net): runs on a
/// throw-away thread that joined it, so no other work ever sees the change.
/// </summary>
public static class NetworkNamespace
{
    public static T Run<T>(string netnsPath, Func<T> action) =>
        Namespaces.RunOnDedicatedThread(() =>
        {
            Namespaces.Join(netnsPath, NamespaceKind.Network);
            return action();
        });

    /// <summary>
    /// A socket of the network namespace at <paramref name="netnsPath"/>, made on the calling thread, which joins the
    /// namespace and returns (<see cref="NamespaceSockets"/>): for sockets made often (probes), where a thread per
    /// socket would cost more than the connection.
    /// </summary>
    public static System.Net.Sockets.Socket CreateSocket(string netnsPath, System.Net.Sockets.AddressFamily family, System.Net.Sockets.SocketType type, System.Net.Sockets.ProtocolType protocol) =>
        NamespaceSockets.Create(netnsPath, family, type, protocol);

    /// <summary>Creates a new network namespace with loopback up and pins it at <paramref name="target"/>.</summary>
    public static void CreatePinned(string target) =>
        Namespaces.RunOnDedicatedThread(() =>
        {
            Namespaces.Unshare(NamespaceKind.Network);
            Loopback.BringUp();
            Namespaces.PinCurrent(NamespaceKind.Network, target);
            return true;
        });

    /// <summary>Unpins a namespace made by <see cref="CreatePinned"/> and removes the file. Idempotent.</summary>
    public static void RemovePinned(string target)
    {
        if (!File.Exists(target))
        {
            return;
        }

        Mounts.Unmount(target, detach: true);
        File.Delete(target);
    }

    /// <summary>Writes a sysctl under /proc/sys/net of the namespace at <paramref name="netnsPath"/> (null: the caller's).</summary>
    public static void WriteSysctl(string? netnsPath, string key, string value)
    {
        var path = "/proc/sys/" + key.Replace('.', '/');
        void Write() => File.WriteAllText(path, value);
        if (netnsPath is null)
        {
            Write();
        }
        else
        {
            Run(netnsPath, () =>
            {
                Write();
                return true;
            });
        }
    }
}
