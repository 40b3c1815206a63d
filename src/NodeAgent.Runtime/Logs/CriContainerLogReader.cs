using System.Runtime.CompilerServices;
using NodeAgent.Cri;
using NodeAgent.Logs;

namespace NodeAgent.Runtime.Logs;

/// <summary>
/// <see cref="IContainerLogReader"/> over the CRI log files the shims write (<see cref="CriLogReader"/>): the kubelet
/// API's <c>/containerLogs</c> reads through it without knowing the file format. Malformed lines are skipped.
/// </summary>
public sealed class CriContainerLogReader : IContainerLogReader
{
    public static CriContainerLogReader Instance { get; } = new();

    public async IAsyncEnumerable<ContainerLogLine> ReadAsync(string logPath, ContainerLogReadOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var read = new CriLogReadOptions { Tail = options.Tail, Since = options.Since, Follow = options.Follow, FollowUntil = options.FollowUntil };
        await foreach (var entry in new CriLogReader(logPath).ReadAsync(read, cancellationToken).ConfigureAwait(false))
        {
            yield return new ContainerLogLine(entry.Timestamp, entry.Stream == CriStream.Stderr, entry.Content, entry.Complete);
        }
    }
}
