using System.Collections.Concurrent;
using System.Net.Sockets;

namespace NodeAgent.Linux;

/// <summary>
/// Makes sockets inside other network namespaces on one long-lived thread that joins each request's namespace
/// (setns with CLONE_NEWNET may be repeated on a thread) and makes the socket there, so a probe's socket costs an
/// open, a setns and a socket call, not a thread started and ended. Only this thread ever changes namespace; it
/// joins the request's namespace before every request, so none runs where an earlier one left it.
/// </summary>
internal sealed class NamespaceSocketWorker
{
    public static readonly NamespaceSocketWorker Shared = new();

    private readonly BlockingCollection<Request> _requests = [];

    private NamespaceSocketWorker()
    {
        new Thread(Loop, 256 * 1024) { IsBackground = true, Name = "nodeagent-netns-sockets" }.Start();
    }

    private sealed class Request(string netnsPath, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        public readonly ManualResetEventSlim Done = new();

        public Socket? Socket;

        public Exception? Error;

        public void Run()
        {
            try
            {
                Namespaces.Join(netnsPath, NamespaceKind.Network);
                Socket = new Socket(family, type, protocol);
            }
            catch (Exception ex)
            {
                Error = ex;
            }
            finally
            {
                Done.Set();
            }
        }
    }

    /// <summary>A socket of the network namespace at <paramref name="netnsPath"/> (blocks for the worker's turn: microseconds).</summary>
    public Socket Create(string netnsPath, AddressFamily family, SocketType type, ProtocolType protocol)
    {
        var request = new Request(netnsPath, family, type, protocol);
        _requests.Add(request);
        request.Done.Wait();
        request.Done.Dispose();
        if (request.Error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(request.Error).Throw();
        }

        return request.Socket!;
    }

    private void Loop()
    {
        foreach (var request in _requests.GetConsumingEnumerable())
        {
            request.Run();
        }
    }
}
