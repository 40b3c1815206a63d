using System.Buffers;
using System.Text;
using k8s.Models;
using Microsoft.AspNetCore.Http;
using NodeAgent.Cri;
using NodeAgent.Kubelet.Pods;

namespace NodeAgent.Server.Logs;

/// <summary>
/// kubelet's <c>GET /containerLogs/{namespace}/{pod}/{container}</c>: the pod from the node's pods, the container
/// from its spec (404 with kubelet's messages otherwise), the runtime container of the current attempt (or the one
/// before with <c>previous</c>), its CRI log through <see cref="IContainerLogReader"/>; <c>tailLines</c>,
/// <c>sinceSeconds</c>/<c>sinceTime</c>, <c>timestamps</c> (Go's RFC3339Nano, trailing zeros trimmed) and
/// <c>limitBytes</c> (the output is cut there, mid-line if need be). <c>follow</c> ends when the container exits or
/// the client goes; each request reads on its own, and a client that stops reading is dropped by Kestrel's minimum
/// response data rate, so nothing else waits on it.
/// </summary>
public sealed class ContainerLogsEndpoint(IPodLister pods, IRuntimeService runtime, IContainerLogReader reader, TimeProvider time)
{
    public async Task HandleAsync(HttpContext context, string ns, string podName, string containerName)
    {
        var (query, status, error) = ContainerLogQuery.Parse(context.Request.Query, time.GetUtcNow());
        if (query is null)
        {
            await WriteErrorAsync(context, status, error);
            return;
        }

        var pod = pods.ListPods().FirstOrDefault(p => p.Metadata?.NamespaceProperty == ns && p.Metadata?.Name == podName);
        if (pod is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"pod \"{podName}\" does not exist");
            return;
        }

        if (!HasContainer(pod, containerName))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"container \"{containerName}\" not found in pod \"{podName}\"");
            return;
        }

        var attempts = runtime.ListContainers(new ContainerFilter
        {
            LabelSelector = new Dictionary<string, string>
            {
                [ContainerConfigFactory.PodUidLabel] = pod.Metadata!.Uid ?? string.Empty,
                [ContainerConfigFactory.ContainerNameLabel] = containerName,
            },
        }).OrderByDescending(c => c.Attempt).ThenByDescending(c => c.CreatedAt).ToList();
        ContainerStatus? container;
        if (query.Previous)
        {
            container = attempts.Skip(1).FirstOrDefault(c => c.State == ContainerState.Exited);
            if (container is null)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"previous terminated container \"{containerName}\" in pod \"{podName}\" not found");
                return;
            }
        }
        else
        {
            container = attempts.FirstOrDefault();
            if (container is null)
            {
                var reason = pod.Status?.ContainerStatuses?.Concat(pod.Status.InitContainerStatuses ?? [])
                    .FirstOrDefault(s => s.Name == containerName)?.State?.Waiting?.Reason ?? "ContainerCreating";
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"container \"{containerName}\" in pod \"{podName}\" is waiting to start: {reason}");
                return;
            }
        }

        await StreamAsync(context, container, query);
    }

    private async Task StreamAsync(HttpContext context, ContainerStatus container, ContainerLogQuery query)
    {
        var ct = context.RequestAborted;
        var follow = query.Follow && container.State != ContainerState.Exited;
        var options = new ContainerLogReadOptions
        {
            Tail = query.TailLines,
            Since = query.Since,
            Follow = follow,
            FollowUntil = follow ? runtime.WaitContainerAsync(container.Id, ct) : null,
        };
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/plain";
        var body = context.Response.Body;
        var remaining = query.LimitBytes ?? long.MaxValue;
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            await context.Response.StartAsync(ct);
            await foreach (var line in reader.ReadAsync(container.LogPath, options, ct))
            {
                buffer.ResetWrittenCount();
                if (query.Timestamps)
                {
                    Encoding.UTF8.GetBytes(GoTime.Rfc3339Nano(line.Timestamp) + " ", buffer);
                }

                Encoding.UTF8.GetBytes(line.Content, buffer);
                if (line.Complete)
                {
                    buffer.Write("\n"u8);
                }

                var bytes = buffer.WrittenMemory;
                if (bytes.Length >= remaining)
                {
                    await body.WriteAsync(bytes[..(int)remaining], ct);
                    break;
                }

                remaining -= bytes.Length;
                await body.WriteAsync(bytes, ct);
                if (follow)
                {
                    await body.FlushAsync(ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away (or was dropped for not reading): nothing more to do.
        }
        catch (IOException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static bool HasContainer(V1Pod pod, string name) =>
        (pod.Spec?.Containers ?? []).Any(c => c.Name == name)
        || (pod.Spec?.InitContainers ?? []).Any(c => c.Name == name)
        || (pod.Spec?.EphemeralContainers ?? []).Any(c => c.Name == name);

    /// <summary>go-restful's WriteError: the status and the error's text, nothing else.</summary>
    internal static Task WriteErrorAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, context.RequestAborted);
    }
}
