namespace NodeAgent.TestApiServer;

/// <summary>How to run the test API server.</summary>
public sealed record TestApiServerOptions
{
    /// <summary>Directory for the kubeconfigs (admin.kubeconfig, NAME.kubeconfig) and ca.crt.</summary>
    public required string Directory { get; init; }

    /// <summary>Port on 127.0.0.1; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>Node identities to write kubeconfigs for (client certificates CN=system:node:NAME, O=system:nodes).</summary>
    public IReadOnlyList<string> Nodes { get; init; } = [];

    /// <summary>Bootstrap tokens (<c>ID.SECRET</c>) to store as <c>kube-system/bootstrap-token-ID</c> Secrets and write <c>bootstrap.kubeconfig</c> for (the first; each also as <c>bootstrap-ID.kubeconfig</c>).</summary>
    public IReadOnlyList<string> BootstrapTokens { get; init; } = [];

    /// <summary>How many changes the watch history keeps; watches from older versions get 410 Expired.</summary>
    public int HistoryLimit { get; init; } = 10000;

    /// <summary>How many undelivered events a watch may hold before the server closes it as too slow (the client re-watches).</summary>
    public int WatcherCapacity { get; init; } = 10000;

    /// <summary>How often a watch with allowWatchBookmarks gets a BOOKMARK (the real server: about a minute).</summary>
    public TimeSpan BookmarkInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Run the controllers (scheduler, EndpointSlice controller, node lifecycle).</summary>
    public bool RunControllers { get; init; } = true;

    /// <summary>Run the namespace controller (deleting a namespace's contents) even when <see cref="RunControllers"/> is off: without it a deleted namespace stays Terminating, as on a cluster without kube-controller-manager.</summary>
    public bool RunNamespaceController { get; init; } = true;

    /// <summary>How long a node may go without a Lease renewal or Ready heartbeat before it turns Unknown (kube-controller-manager: 40 s).</summary>
    public TimeSpan NodeMonitorGracePeriod { get; init; } = TimeSpan.FromSeconds(40);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where to dial a node's kubelet instead of its InternalIP (the port is still the Node's
    /// <c>daemonEndpoints.kubeletEndpoint</c>): a test's node listens on loopback, which a Node may not report.</summary>
    public string? KubeletDialAddress { get; init; }
}
