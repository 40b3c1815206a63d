using System.Net;
using k8s.Models;

namespace NodeAgent.Kube.Http;

/// <summary>A request the API server answered with an error status; carries the server's <c>Status</c> body when it sent one.</summary>
public sealed class ApiException : Exception
{
    public ApiException(HttpMethod method, string path, HttpStatusCode statusCode, V1Status? status, string? body)
        : base($"{method} {path}: {(int)statusCode} {status?.Reason ?? statusCode.ToString()}: {status?.Message ?? Trim(body)}")
    {
        StatusCode = statusCode;
        Status = status;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The <c>Status</c> object the server returned, if any.</summary>
    public V1Status? Status { get; }

    /// <summary>The status reason (<c>Conflict</c>, <c>NotFound</c>, <c>AlreadyExists</c>, <c>Expired</c>, <c>Gone</c>…).</summary>
    public string? Reason => Status?.Reason;

    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;

    public bool IsConflict => StatusCode == HttpStatusCode.Conflict && Reason != "AlreadyExists";

    public bool IsAlreadyExists => StatusCode == HttpStatusCode.Conflict && Reason == "AlreadyExists";

    /// <summary>410 Gone or reason Expired: the resourceVersion asked for is older than the server keeps.</summary>
    public bool IsGone => StatusCode == HttpStatusCode.Gone || Reason is "Expired" or "Gone";

    private static string Trim(string? body) => body is null ? "" : body.Length > 200 ? body[..200] + "…" : body;
}
