namespace NodeAgent.Kube.Informers;

/// <summary>What an informer lists and watches, and its timings.</summary>
public sealed record InformerOptions
{
    /// <summary>One namespace, or null for all.</summary>
    public string? Namespace { get; init; }

    public string? LabelSelector { get; init; }

    /// <summary>e.g. <c>spec.nodeName=node1</c>, as kubelet watches its pods.</summary>
    public string? FieldSelector { get; init; }

    /// <summary>Every cached object is handed to update handlers again this often (client-go's resync); null for never.</summary>
    public TimeSpan? ResyncPeriod { get; init; }

    /// <summary>List page size (client-go's pager: 500).</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Watches ask the server to end them after a random time between this and twice it (client-go: 5–10 minutes).</summary>
    public TimeSpan MinWatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>First reconnect delay after a failure; doubles up to <see cref="MaxBackoff"/>, with jitter (client-go: 800 ms to 30 s).</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(800);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);
}
