using System.Threading.Channels;

namespace NodeAgent.Tests.Kubelet;

internal static class ChannelExtensions
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>The next item, failing the test if none arrives in time.</summary>
    public static Task<T> NextAsync<T>(this ChannelReader<T> reader) => reader.ReadAsync().AsTask().WaitAsync(Timeout);
}
