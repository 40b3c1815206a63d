using System.Buffers;
using System.Text.Json;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Server;

/// <summary>
/// Writes <c>GET /pods</c> (a <c>v1.PodList</c>) straight to the response, pod by pod, with the source-generated
/// KubernetesClient serializer: a response never exists as one string, and at most
/// <paramref name="maxConcurrent"/> lists are written at once (further requests wait their turn), so memory stays
/// bounded by a few copies of the largest pod however many clients ask. A pod that cannot be serialized (an odd
/// value) is written as its name and a status saying why, and never fails the others.
/// </summary>
public sealed partial class PodListWriter(IPodLister pods, ILogger logger, int maxConcurrent = 4) : IDisposable
{
    private static readonly byte[] Head = """{"kind":"PodList","apiVersion":"v1","metadata":{},"items":["""u8.ToArray();
    private static readonly byte[] Tail = "]}"u8.ToArray();
    private static readonly byte[] Comma = ","u8.ToArray();

    private readonly SemaphoreSlim _slots = new(Math.Max(1, maxConcurrent));
    private readonly ILogger _logger = logger;

    // Serialization buffers of the lists being written, reused while requests keep coming (a burst of readers
    // allocates at most maxConcurrent buffers, not one per request) and dropped once none is in flight or waiting,
    // so an idle agent keeps no buffer the size of its largest pod.
    private readonly Stack<ArrayBufferWriter<byte>> _buffers = new();
    private readonly Lock _buffersLock = new();
    private int _inFlight;

    public async Task WriteAsync(HttpContext context)
    {
        lock (_buffersLock)
        {
            _inFlight++;
        }

        try
        {
            await WriteListAsync(context);
        }
        finally
        {
            lock (_buffersLock)
            {
                if (--_inFlight == 0)
                {
                    _buffers.Clear();
                }
            }
        }
    }

    private ArrayBufferWriter<byte> RentBuffer()
    {
        lock (_buffersLock)
        {
            return _buffers.TryPop(out var buffer) ? buffer : new ArrayBufferWriter<byte>(16 * 1024);
        }
    }

    private void ReturnBuffer(ArrayBufferWriter<byte> buffer)
    {
        lock (_buffersLock)
        {
            // The last request out (the count is decremented after this) clears the stack.
            _buffers.Push(buffer);
        }
    }

    private async Task WriteListAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        await _slots.WaitAsync(cancellationToken);
        var buffer = RentBuffer();
        try
        {
            context.Response.ContentType = "application/json";
            var body = context.Response.Body;
            await body.WriteAsync(Head, cancellationToken);
            var first = true;
            foreach (var pod in pods.ListPods())
            {
                buffer.ResetWrittenCount();
                if (!TrySerialize(pod, buffer))
                {
                    continue;
                }

                if (!first)
                {
                    await body.WriteAsync(Comma, cancellationToken);
                }

                first = false;
                await body.WriteAsync(buffer.WrittenMemory, cancellationToken);
            }

            await body.WriteAsync(Tail, cancellationToken);
        }
        finally
        {
            buffer.ResetWrittenCount();
            ReturnBuffer(buffer);
            _slots.Release();
        }
    }

    private bool TrySerialize(V1Pod pod, ArrayBufferWriter<byte> buffer)
    {
        try
        {
            Serialize(pod, buffer);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var name = $"{pod.Metadata?.NamespaceProperty}/{pod.Metadata?.Name}";
            LogPodUnserializable(name, $"{e.GetType().Name}: {e.Message}");
            buffer.ResetWrittenCount();
            try
            {
                Serialize(Placeholder(pod, e), buffer);
                return true;
            }
            catch (Exception again) when (again is not OutOfMemoryException)
            {
                buffer.ResetWrittenCount();
                return false;
            }
        }
    }

    private static void Serialize(V1Pod pod, ArrayBufferWriter<byte> buffer)
    {
        using var writer = new Utf8JsonWriter(buffer);
        JsonSerializer.Serialize(writer, pod, SourceGenerationContext.Default.V1Pod);
    }

    private static V1Pod Placeholder(V1Pod pod, Exception e) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new V1ObjectMeta
        {
            Name = pod.Metadata?.Name,
            NamespaceProperty = pod.Metadata?.NamespaceProperty,
            Uid = pod.Metadata?.Uid,
        },
        Status = new V1PodStatus
        {
            Phase = pod.Status?.Phase ?? "Unknown",
            Reason = "StatusUnavailable",
            Message = $"the pod cannot be shown: {e.GetType().Name}: {e.Message}",
        },
    };

    public void Dispose() => _slots.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "GET /pods: pod {Pod} cannot be serialized, showing its name only: {Error}")]
    private partial void LogPodUnserializable(string pod, string error);
}
