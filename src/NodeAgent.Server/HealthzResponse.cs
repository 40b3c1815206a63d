using Microsoft.AspNetCore.Http;
using NodeAgent.Kubelet.Agent;

namespace NodeAgent.Server;

/// <summary>
/// kubelet's <c>/healthz</c> answer, shared by the read-only port, the healthz port and the kubelet API: <c>ok</c>
/// while every agent loop runs; when one stopped, 500 with kubelet's healthz text naming each stopped loop
/// (<c>[-]pod dispatcher failed: reason withheld</c> … <c>healthz check failed</c>). The reason is in the agent's
/// log, not in an answer that may be unauthenticated.
/// </summary>
public static class HealthzResponse
{
    public static Task WriteAsync(HttpContext ctx, ILoopHealth? health)
    {
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
        var failures = health?.Failures ?? [];
        if (failures.Count == 0)
        {
            return ctx.Response.WriteAsync("ok");
        }

        // The loop names are ours, not the request's, so they are safe to show.
        ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
        var body = new System.Text.StringBuilder("[+]ping ok\n");
        foreach (var f in failures)
        {
            body.Append("[-]").Append(f.Loop).Append(" failed: reason withheld\n");
        }

        body.Append("healthz check failed\n");
        return ctx.Response.WriteAsync(body.ToString());
    }
}
