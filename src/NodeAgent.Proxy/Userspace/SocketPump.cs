using System.Buffers;
using System.Net.Sockets;

namespace NodeAgent.Proxy.Userspace;

/// <summary>
/// Forwards one TCP connection both ways with a pooled buffer per direction (ArrayPool: no allocation per
/// connection on the data path). An end of stream is passed on as a half-close; an error on either side closes
/// both, so the other direction ends too.
/// </summary>
internal static class SocketPump
{
    public const int BufferSize = 128 * 1024;

    public static async Task BridgeAsync(Socket client, Socket backend, CancellationToken cancellationToken)
    {
        // One registration per connection, not one per receive and send: cancelling closes both sockets.
        await using var closing = cancellationToken.Register(() =>
        {
            client.Dispose();
            backend.Dispose();
        });
        var up = CopyAsync(client, backend);
        var down = CopyAsync(backend, client);
        if (!await await Task.WhenAny(up, down))
        {
            client.Dispose();
            backend.Dispose();
        }
        await Task.WhenAll(up, down);
    }

    /// <summary>Copies until the end of <paramref name="from"/>'s stream; false when it ended by an error.</summary>
    private static async Task<bool> CopyAsync(Socket from, Socket to)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int n;
            while ((n = await from.ReceiveAsync(buffer.AsMemory(), SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
            to.Shutdown(SocketShutdown.Send);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
