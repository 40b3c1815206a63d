namespace NodeAgent.Kubelet.Config;

/// <summary>A producer of full pod snapshots (kubelet's file, http and apiserver sources).</summary>
public interface IPodSource
{
    /// <summary>The source name written in <see cref="PodSourceUpdate.Source"/>.</summary>
    string Name { get; }

    /// <summary>Runs until cancelled, writing a snapshot whenever the desired pods may have changed.</summary>
    Task RunAsync(System.Threading.Channels.ChannelWriter<PodSourceUpdate> output, CancellationToken cancellationToken);
}
